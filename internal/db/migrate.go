package db

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// block is one "-- version: N" section of schema.sql.
type block struct {
	version int
	sql     string
}

// parseSchema splits schema.sql into its versioned blocks.
func parseSchema(schemaSQL string) ([]block, error) {
	var blocks []block
	var cur *block
	sc := bufio.NewScanner(strings.NewReader(schemaSQL))
	sc.Buffer(make([]byte, 1024*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "-- version:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil {
				return nil, fmt.Errorf("schema: bad version line %q", line)
			}
			if len(blocks) > 0 && n != blocks[len(blocks)-1].version+1 || len(blocks) == 0 && n != 1 {
				return nil, fmt.Errorf("schema: version %d out of order", n)
			}
			blocks = append(blocks, block{version: n})
			cur = &blocks[len(blocks)-1]
			continue
		}
		if cur != nil {
			cur.sql += line + "\n"
		}
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("schema: no \"-- version: N\" block")
	}
	return blocks, sc.Err()
}

// SchemaVersion returns the newest version schema.sql defines.
func SchemaVersion(schemaSQL string) (int, error) {
	blocks, err := parseSchema(schemaSQL)
	if err != nil {
		return 0, err
	}
	return blocks[len(blocks)-1].version, nil
}

// migrate applies every block newer than the file's user_version, each in its
// own transaction together with the new user_version.
func migrate(ctx context.Context, w *sql.DB, schemaSQL string) error {
	blocks, err := parseSchema(schemaSQL)
	if err != nil {
		return err
	}
	var current int
	if err := w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	latest := blocks[len(blocks)-1].version
	if current > latest {
		return fmt.Errorf("database schema version %d is newer than this binary's %d; use a newer keyward", current, latest)
	}
	for _, b := range blocks {
		if b.version <= current {
			continue
		}
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", b.version, err)
		}
		if _, err := tx.ExecContext(ctx, b.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to version %d: %w", b.version, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", b.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to version %d: %w", b.version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to version %d: %w", b.version, err)
		}
	}
	return nil
}

// Version returns the database's current schema version.
func (d *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := d.Read.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}
