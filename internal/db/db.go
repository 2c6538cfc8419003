// Package db opens Keyward's SQLite file, applies the embedded schema and
// hands out transactions. It uses modernc.org/sqlite (pure Go, no cgo).
//
// Writes go through a pool of exactly one connection, so SQLite never sees two
// writers and a write transaction never fails with SQLITE_BUSY; reads use a
// separate pool and, in WAL mode, never wait for the writer.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/keyward/keyward/queries"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is an open Keyward database.
type DB struct {
	Path  string
	Write *sql.DB // one connection, BEGIN IMMEDIATE
	Read  *sql.DB // many connections for reads
	// The queries prepared once on each pool: SQLite then parses a
	// statement once per connection instead of on every call.
	wq, rq *queries.Queries
	// gen counts committed write transactions that may change what a
	// cache holds (see Generation).
	gen atomic.Uint64
	// beforeWrite runs before every InTx (see BeforeWrite).
	beforeWrite atomic.Pointer[func(context.Context)]
}

// BeforeWrite sets a function InTx calls before it begins: the audit log
// applies the entries waiting in its journal there, so that an entry a
// transaction appends comes after every entry journaled before it began.
func (d *DB) BeforeWrite(fn func(context.Context)) { d.beforeWrite.Store(&fn) }

// Open opens (creating if needed) the database file at path and brings its
// schema up to date with schemaSQL.
func Open(ctx context.Context, path, schemaSQL string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	// Create the file owner-only before SQLite does (its -wal and -shm files
	// then get the same mode).
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("create database %s: %w", path, err)
	} else {
		f.Close()
	}
	w, err := sql.Open("sqlite", dsn(path, "immediate"))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	d := &DB{Path: path, Write: w}
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := migrate(ctx, w, schemaSQL); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, "deferred"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	d.Read = r
	d.wq, d.rq = prepare(ctx, w), prepare(ctx, r)
	return d, nil
}

// prepare prepares every query on a pool. A schema older than the queries
// (a test opening a partial schema) cannot prepare them all: the queries
// then run unprepared, as they would without this step.
func prepare(ctx context.Context, pool *sql.DB) *queries.Queries {
	q, err := queries.Prepare(ctx, pool)
	if err != nil {
		if q != nil {
			q.Close()
		}
		return queries.New(pool)
	}
	return q
}

// dsn builds a modernc.org/sqlite connection string. busy_timeout comes first
// so that it already applies while the other pragmas run.
func dsn(path, txlock string) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "foreign_keys(ON)")
	v.Add("_pragma", "synchronous(NORMAL)")
	v.Set("_time_format", "sqlite")
	v.Set("_txlock", txlock)
	return "file:" + path + "?" + v.Encode()
}

// Close closes the prepared statements and both pools.
func (d *DB) Close() error {
	for _, q := range []*queries.Queries{d.wq, d.rq} {
		if q != nil {
			q.Close()
		}
	}
	var errR error
	if d.Read != nil {
		errR = d.Read.Close()
	}
	return errors.Join(d.Write.Close(), errR)
}

// Queries returns sqlc queries on the read pool.
func (d *DB) Queries() *queries.Queries { return d.rq }

// InTx runs fn in one write transaction: committed when fn returns nil,
// rolled back otherwise. Every service operation that changes something runs
// in exactly one InTx call, so a rejected request changes nothing.
func (d *DB) InTx(ctx context.Context, fn func(q *queries.Queries) error) error {
	if before := d.beforeWrite.Load(); before != nil {
		(*before)(ctx)
	}
	defer d.gen.Add(1)
	return d.AppendTx(ctx, fn)
}

// AppendTx is InTx for transactions that only append to the audit log: they
// change nothing a cache holds, so they leave Generation as it is.
func (d *DB) AppendTx(ctx context.Context, fn func(q *queries.Queries) error) error {
	tx, err := d.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	if err := fn(d.wq.WithTx(tx)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// Generation changes after every write transaction that commits (or fails)
// through InTx. A cache of something read from the database stays valid while
// Generation returns the value it had before the read. Only this process's
// writes move it: a cache must also expire entries after a short time for
// changes another process (the keyward CLI) makes to the same file.
func (d *DB) Generation() uint64 { return d.gen.Load() }

// View runs fn in one read-only transaction on the read pool: every query
// fn makes sees the same commit, so that a revision and the content it
// labels, or a page and its total, always agree.
func (d *DB) View(ctx context.Context, fn func(q *queries.Queries) error) error {
	tx, err := d.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	defer tx.Rollback()
	return fn(d.rq.WithTx(tx))
}

// Ping checks that the database answers a query, for /readyz.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.Read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Backup writes a consistent copy of the database to dest while the server
// may keep running (VACUUM INTO reads one snapshot). dest must not exist.
func (d *DB) Backup(ctx context.Context, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s already exists", dest)
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := d.Read.ExecContext(ctx, "VACUUM INTO ?", abs); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	return os.Chmod(abs, 0o600)
}

// Checkpoint folds the WAL into the main file (used by tests that read the
// file's bytes, and on shutdown).
func (d *DB) Checkpoint(ctx context.Context) error {
	_, err := d.Write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
