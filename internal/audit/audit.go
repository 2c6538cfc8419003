// Package audit keeps Keyward's append-only, tamper-evident audit log. Each
// entry stores an HMAC-SHA256 (keyed from the master key) over its own fields
// and the previous entry's hash, so editing, deleting or reordering any row
// breaks the chain from that row on, and Verify names the first bad entry.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// Outcomes of an audited operation.
const (
	Success = "success"
	Denied  = "denied"
	Failed  = "failed"
)

// genesis is the prev_hash of the first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Entry is what a service records about one operation.
type Entry struct {
	At          time.Time // zero: when it is appended
	Actor       string
	Via         string
	Action      string // "project.create", "user.disable", ...
	Project     string
	Object      string
	Environment string
	SourceAddr  string
	Outcome     string
	Detail      string
}

// For fills Actor, Via and SourceAddr from the principal.
func For(p access.Principal, action string) Entry {
	actor := p.Username
	if actor == "" {
		actor = "anonymous"
	}
	return Entry{Actor: actor, Via: p.Via, Action: action, SourceAddr: p.SourceAddr, Outcome: Success}
}

// Log appends to and reads the audit log.
type Log struct {
	db      *db.DB
	key     []byte
	clock   clock.Clock
	journal atomic.Pointer[journal] // nil until OpenJournal
}

// New returns a Log whose chain is keyed with key (derived from the master key).
func New(d *db.DB, key []byte, c clock.Clock) *Log {
	return &Log{db: d, key: key, clock: c}
}

// Append adds e inside the caller's transaction, so the entry commits or
// rolls back with the change it describes.
func (l *Log) Append(ctx context.Context, q *queries.Queries, e Entry) error {
	return l.appendAll(ctx, q, []Entry{e})
}

// appendAll adds entries to the chain in order, inside q's transaction.
func (l *Log) appendAll(ctx context.Context, q *queries.Queries, entries []Entry) error {
	// Rows are never deleted and there is one writer connection, so the
	// next id is the last id plus one; it is part of the hash.
	last, err := q.LastAuditEntry(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		last.Hash = genesis
	} else if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	for _, e := range entries {
		if e.Outcome == "" {
			e.Outcome = Success
		}
		at := e.At
		if at.IsZero() {
			at = l.clock.Now()
		}
		row := queries.AuditLog{
			At: at, Actor: e.Actor, Via: e.Via, Action: e.Action, Project: e.Project,
			Object: e.Object, Environment: e.Environment, SourceAddr: e.SourceAddr,
			Outcome: e.Outcome, Detail: e.Detail, PrevHash: last.Hash, ID: last.ID + 1,
		}
		row.Hash = l.hash(row)
		_, err = q.InsertAuditEntry(ctx, queries.InsertAuditEntryParams{
			ID: row.ID, At: row.At, Actor: row.Actor, Via: row.Via, Action: row.Action, Project: row.Project,
			Object: row.Object, Environment: row.Environment, SourceAddr: row.SourceAddr,
			Outcome: row.Outcome, Detail: row.Detail, PrevHash: row.PrevHash, Hash: row.Hash,
		})
		if err != nil {
			return fmt.Errorf("append audit entry: %w", err)
		}
		last.ID, last.Hash = row.ID, row.Hash
	}
	return nil
}

// Record appends e in a transaction of its own: for refusals and failures,
// whose own transaction was rolled back.
func (l *Log) Record(ctx context.Context, e Entry) error {
	// Entries journaled before this one come first in the chain. If they
	// cannot be applied now they stay in the journal and are retried.
	_ = l.Flush(ctx)
	return l.db.AppendTx(ctx, func(q *queries.Queries) error { return l.Append(ctx, q, e) })
}

// hash computes an entry's chain hash.
func (l *Log) hash(r queries.AuditLog) string {
	m := hmac.New(sha256.New, l.key)
	fields := []string{
		strconv.FormatInt(r.ID, 10), r.At.UTC().Format(time.RFC3339Nano), r.Actor, r.Via, r.Action,
		r.Project, r.Object, r.Environment, r.SourceAddr, r.Outcome, r.Detail, r.PrevHash,
	}
	for _, f := range fields {
		// Length-prefix every field so that no two field lists hash alike.
		fmt.Fprintf(m, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyResult is the outcome of checking the whole chain.
type VerifyResult struct {
	Entries  int64  // entries checked
	BadID    int64  // first entry that does not match, 0 when intact
	Problem  string // what is wrong with BadID
	LastHash string
}

// Intact reports whether every entry matched.
func (r VerifyResult) Intact() bool { return r.BadID == 0 }

// Verify walks the chain from the first entry and reports the first entry
// whose hash or link does not match.
func (l *Log) Verify(ctx context.Context) (VerifyResult, error) {
	if err := l.Flush(ctx); err != nil {
		return VerifyResult{}, err
	}
	q := l.db.Queries()
	res := VerifyResult{LastHash: genesis}
	var after, expectID int64 = 0, 1
	for {
		rows, err := q.AuditEntriesAfter(ctx, queries.AuditEntriesAfterParams{ID: after, Limit: 2000})
		if err != nil {
			return res, fmt.Errorf("verify audit log: %w", err)
		}
		for _, r := range rows {
			switch {
			case r.ID != expectID:
				res.BadID, res.Problem = expectID, fmt.Sprintf("entry %d is missing (next entry is %d)", expectID, r.ID)
			case r.PrevHash != res.LastHash:
				res.BadID, res.Problem = r.ID, fmt.Sprintf("entry %d does not link to entry %d", r.ID, r.ID-1)
			case !hmac.Equal([]byte(r.Hash), []byte(l.hash(r))):
				res.BadID, res.Problem = r.ID, fmt.Sprintf("entry %d was modified: its content does not match its hash", r.ID)
			}
			if res.BadID != 0 {
				return res, nil
			}
			res.Entries++
			res.LastHash = r.Hash
			after, expectID = r.ID, r.ID+1
		}
		if len(rows) < 2000 {
			return res, nil
		}
	}
}

// Sanitize makes a detail string safe to log: no newlines, bounded length.
func Sanitize(s string) string {
	s = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

// Refuse records that the operation e describes was refused (or failed) with
// cause, in a transaction of its own since the operation's was rolled back,
// and returns cause so callers can `return log.Refuse(ctx, e, err)`.
func (l *Log) Refuse(ctx context.Context, e Entry, cause error) error {
	e.Outcome = Denied
	if errs.CodeOf(cause) == errs.Internal {
		e.Outcome = Failed
	}
	e.Detail = Sanitize(errs.MessageOf(cause))
	if err := l.Record(ctx, e); err != nil {
		return errors.Join(cause, fmt.Errorf("record refusal: %w", err))
	}
	return cause
}
