package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/keyward/keyward/queries"
)

// The journal takes entries that come in at a high rate (one per JWT
// signature) off the request path without weakening what an entry promises.
//
// Journal(e) appends e as one line to a segment file next to the database
// and returns: from then on the entry survives the process dying, exactly as
// a committed transaction does under SQLite's WAL with synchronous=NORMAL
// (both sit in the operating system's page cache; neither is fsynced). A
// background flush then appends the waiting entries to the hash chain in one
// transaction, a few milliseconds later, and in the same transaction records
// how far it got (segment and line), so that a line is applied exactly once
// even if Keyward stops between the commit and the next flush. On start,
// OpenJournal applies whatever a stopped server left after that mark.
//
// Readers of the log (List, WriteCSV, Verify) flush first, so a page or an
// export always includes every entry journaled before it was asked for; and
// so do writers (Record, and every db.InTx through db.BeforeWrite), so that
// the chain keeps the order in which things happened: an entry journaled
// before a transaction began comes before the entries it appends.

// journalSetting records the last line applied to the chain: "segment:line".
const journalSetting = "audit_journal_applied"

// journalLinger is how long the flusher waits after the first waiting entry,
// gathering more into the same transaction.
const journalLinger = 5 * time.Millisecond

// segmentLimit is the size after which the journal starts a new segment
// file; a segment is removed once all its lines are in the chain.
const segmentLimit = 4 << 20

// mark is a position in the journal: line (counted from 1) of segment seq.
type mark struct{ seq, line int64 }

func (m mark) String() string { return fmt.Sprintf("%d:%d", m.seq, m.line) }

func parseMark(s string) mark {
	a, b, _ := strings.Cut(s, ":")
	seq, _ := strconv.ParseInt(a, 10, 64)
	line, _ := strconv.ParseInt(b, 10, 64)
	return mark{seq, line}
}

type pendingEntry struct {
	at mark
	e  Entry
}

type journal struct {
	dir  string
	lock *os.File // held (flock) while this process owns the journal

	mu      sync.Mutex // guards f, seq, lines, size, pending
	f       *os.File
	seq     int64
	lines   int64
	size    int64
	pending []pendingEntry

	flushMu sync.Mutex     // one flush at a time, so entries apply in order
	failed  []pendingEntry // taken by a flush that did not commit (guarded by flushMu)
	removed int64          // segments below this one are removed (guarded by flushMu)
	closed  bool           // guarded by mu: Journal records directly

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// journalLine is an entry as the segment file holds it.
type journalLine struct {
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Via         string    `json:"via,omitempty"`
	Action      string    `json:"action"`
	Project     string    `json:"project,omitempty"`
	Object      string    `json:"object,omitempty"`
	Environment string    `json:"environment,omitempty"`
	SourceAddr  string    `json:"sourceAddr,omitempty"`
	Outcome     string    `json:"outcome"`
	Detail      string    `json:"detail,omitempty"`
}

// OpenJournal starts the journal in dir (created owner-only), first applying
// to the chain what a stopped server left there. Until it is called, Journal
// appends each entry in a transaction of its own.
func (l *Log) OpenJournal(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("audit journal: %w", err)
	}
	// One process owns the journal: the server, or a keyward command run
	// while no server is. A command run beside a server leaves the server's
	// segments alone and records its own entries directly.
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit journal: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil
	}
	j := &journal{dir: dir, lock: lock, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	last, err := l.recover(ctx, j)
	if err != nil {
		lock.Close()
		return err
	}
	j.seq = last + 1
	j.removed = j.seq
	if j.f, err = j.create(j.seq); err != nil {
		lock.Close()
		return err
	}
	l.journal.Store(j)
	l.db.BeforeWrite(func(ctx context.Context) { _ = l.Flush(ctx) })
	go l.flushLoop(j)
	return nil
}

// Journal records e. With the journal open it returns once e is written to
// the journal file; otherwise once e is committed.
func (l *Log) Journal(ctx context.Context, e Entry) error {
	j := l.journal.Load()
	if j == nil {
		return l.Record(ctx, e)
	}
	if e.At.IsZero() {
		e.At = l.clock.Now()
	}
	if e.Outcome == "" {
		e.Outcome = Success
	}
	line, err := json.Marshal(journalLine(e))
	if err != nil {
		return fmt.Errorf("audit journal: %w", err)
	}
	line = append(line, '\n')
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return l.Record(ctx, e)
	}
	if j.size >= segmentLimit {
		err = j.rotate()
	}
	if err == nil {
		_, err = j.f.Write(line)
	}
	if err == nil {
		j.lines++
		j.size += int64(len(line))
		j.pending = append(j.pending, pendingEntry{at: mark{j.seq, j.lines}, e: e})
	}
	j.mu.Unlock()
	if err != nil {
		return fmt.Errorf("audit journal: %w", err)
	}
	select {
	case j.kick <- struct{}{}:
	default:
	}
	return nil
}

// rotate starts the next segment; j.mu is held.
func (j *journal) rotate() error {
	f, err := j.create(j.seq + 1)
	if err != nil {
		return err
	}
	j.f.Close()
	j.f, j.seq, j.lines, j.size = f, j.seq+1, 0, 0
	return nil
}

// Flush appends every journaled entry to the chain now.
func (l *Log) Flush(ctx context.Context) error {
	if j := l.journal.Load(); j != nil {
		return l.flush(ctx, j)
	}
	return nil
}

func (l *Log) flush(ctx context.Context, j *journal) error {
	j.flushMu.Lock()
	defer j.flushMu.Unlock()
	j.mu.Lock()
	batch := append(j.failed, j.pending...)
	j.pending, j.failed = nil, nil
	j.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := l.apply(ctx, batch); err != nil {
		j.failed = batch
		return err
	}
	// Segments before the one the last entry is in are fully applied.
	for ; j.removed < batch[len(batch)-1].at.seq; j.removed++ {
		os.Remove(j.path(j.removed))
	}
	return nil
}

// CloseJournal applies what is waiting and stops the flusher; Journal then
// writes each entry in a transaction of its own again.
func (l *Log) CloseJournal(ctx context.Context) error {
	j := l.journal.Load()
	if j == nil {
		return nil
	}
	l.journal.Store(nil)
	close(j.stop)
	<-j.done
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	err := l.flush(ctx, j)
	j.f.Close()
	if err == nil {
		for ; j.removed <= j.seq; j.removed++ {
			os.Remove(j.path(j.removed))
		}
	}
	j.lock.Close()
	return err
}

// flushLoop applies entries shortly after they arrive. Entries whose flush
// fails stay in the journal file and are retried on the next arrival, on the
// next read and at shutdown.
func (l *Log) flushLoop(j *journal) {
	defer close(j.done)
	for {
		select {
		case <-j.stop:
			return
		case <-j.kick:
		}
		select {
		case <-j.stop:
			return
		case <-time.After(journalLinger):
		}
		_ = l.flush(context.Background(), j)
	}
}

// apply appends entries to the chain and marks the last one applied, in one
// transaction.
func (l *Log) apply(ctx context.Context, batch []pendingEntry) error {
	entries := make([]Entry, len(batch))
	for i, p := range batch {
		entries[i] = p.e
	}
	err := l.db.AppendTx(ctx, func(q *queries.Queries) error {
		if err := l.appendAll(ctx, q, entries); err != nil {
			return err
		}
		return q.PutSetting(ctx, queries.PutSettingParams{Name: journalSetting, Value: batch[len(batch)-1].at.String()})
	})
	if err != nil {
		return fmt.Errorf("audit journal: apply %d entries: %w", len(batch), err)
	}
	return nil
}

// recover applies the lines left in j.dir after the applied mark and removes
// the segment files; it returns the highest segment number seen.
func (l *Log) recover(ctx context.Context, j *journal) (int64, error) {
	var applied mark
	if v, err := l.db.Queries().GetSetting(ctx, journalSetting); err == nil {
		applied = parseMark(v)
	}
	names, err := filepath.Glob(filepath.Join(j.dir, "segment-*.jsonl"))
	if err != nil {
		return 0, fmt.Errorf("audit journal: %w", err)
	}
	var seqs []int64
	for _, n := range names {
		seq, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(n), "segment-"), ".jsonl"), 10, 64)
		if err == nil {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(a, b int) bool { return seqs[a] < seqs[b] })
	last := applied.seq
	for _, seq := range seqs {
		last = max(last, seq)
		if seq >= applied.seq {
			entries, err := readSegment(j.path(seq))
			if err != nil {
				return 0, err
			}
			var batch []pendingEntry
			for i, e := range entries {
				at := mark{seq, int64(i) + 1}
				if seq > applied.seq || at.line > applied.line {
					batch = append(batch, pendingEntry{at: at, e: e})
				}
			}
			if len(batch) > 0 {
				if err := l.apply(ctx, batch); err != nil {
					return 0, err
				}
			}
		}
		os.Remove(j.path(seq))
	}
	return last, nil
}

// readSegment reads a segment's entries. A last line cut short (the process
// died inside the write, so its caller never got an answer) is dropped.
func readSegment(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit journal: %w", err)
	}
	var out []Entry
	for n := 1; len(data) > 0; n++ {
		line, rest, complete := bytes.Cut(data, []byte("\n"))
		if !complete {
			break
		}
		var jl journalLine
		if err := json.Unmarshal(line, &jl); err != nil {
			return nil, fmt.Errorf("audit journal: %s line %d: %w", path, n, err)
		}
		out = append(out, Entry(jl))
		data = rest
	}
	return out, nil
}

func (j *journal) path(seq int64) string {
	return filepath.Join(j.dir, fmt.Sprintf("segment-%012d.jsonl", seq))
}

func (j *journal) create(seq int64) (*os.File, error) {
	f, err := os.OpenFile(j.path(seq), os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit journal: %w", err)
	}
	return f, nil
}
