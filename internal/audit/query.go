package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// Query returns one page of the entries matching f that the principal may
// read: an admin reads every entry; anyone else reads the entries of the
// projects where they hold AUDIT:VIEW. f.Projects is computed here from the
// principal's permissions; a value the caller set is replaced.
func (l *Log) Query(ctx context.Context, p access.Principal, f Filter) (Page, error) {
	if err := f.validate(); err != nil {
		return Page{}, err
	}
	f, err := l.scope(ctx, p, f)
	if err != nil {
		return Page{}, err
	}
	return l.List(ctx, f)
}

// Export writes the entries matching f that the principal may read as CSV
// (see WriteCSV). Reading the log in bulk is itself audited: the export is
// recorded before the first row is written, so even an interrupted download
// is on record, and a refused one is recorded as denied.
func (l *Log) Export(ctx context.Context, p access.Principal, f Filter, w io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	e := For(p, "audit.export")
	e.Project, e.Object, e.Detail = f.Project, "audit-log", Sanitize(f.String())
	scoped, err := l.scope(ctx, p, f)
	if errs.Is(err, errs.Forbidden) || errs.Is(err, errs.Unauthorized) {
		return l.Refuse(ctx, e, err)
	}
	if err != nil {
		return err
	}
	if err := l.Record(ctx, e); err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	return l.WriteCSV(ctx, w, scoped)
}

// CheckIntegrity verifies the whole chain (see Verify) for an admin, and
// records that it did so together with the result.
func (l *Log) CheckIntegrity(ctx context.Context, p access.Principal) (VerifyResult, error) {
	e := For(p, "audit.verify")
	e.Object = "audit-log"
	if err := access.RequireAdmin(p); err != nil {
		return VerifyResult{}, l.Refuse(ctx, e, err)
	}
	res, err := l.Verify(ctx)
	if err != nil {
		return res, err
	}
	e.Detail = res.Summary()
	if err := l.Record(ctx, e); err != nil {
		return res, fmt.Errorf("verify audit log: %w", err)
	}
	return res, nil
}

// Summary states the result in one sentence, as the page and the audit
// entry of the check show it.
func (r VerifyResult) Summary() string {
	if r.Intact() {
		return fmt.Sprintf("Intact: %d entries", r.Entries)
	}
	return fmt.Sprintf("Broken at entry %d: %s", r.BadID, r.Problem)
}

// AuditableProjects lists the projects whose entries the principal may
// read, for the page's project filter: every project for an admin.
func (l *Log) AuditableProjects(ctx context.Context, p access.Principal) ([]string, error) {
	if !p.Authenticated() {
		return nil, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	q := l.db.Queries()
	if !p.Admin {
		names, err := q.ListProjectNamesWithPermission(ctx, queries.ListProjectNamesWithPermissionParams{
			UserID: p.UserID, Permission: string(access.AuditView)})
		if err != nil {
			return nil, fmt.Errorf("list auditable projects: %w", err)
		}
		return names, nil
	}
	rows, err := q.ListProjects(ctx)
	if err != nil {
		return nil, fmt.Errorf("list auditable projects: %w", err)
	}
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.Name
	}
	return names, nil
}

// scope restricts f to what the principal may read, or refuses: a project
// filter needs AUDIT:VIEW in that project; without one, a non-admin reads
// the projects where they hold AUDIT:VIEW and is refused when there are none.
func (l *Log) scope(ctx context.Context, p access.Principal, f Filter) (Filter, error) {
	if !p.Authenticated() {
		return f, errs.Errorf(errs.Unauthorized, "Please sign in to read the audit log.")
	}
	q := l.db.Queries()
	f.Projects = nil
	if f.Project != "" {
		pr, err := q.GetProjectByName(ctx, f.Project)
		if errors.Is(err, sql.ErrNoRows) {
			return f, l.deletedProject(ctx, q, p, f.Project)
		}
		if err != nil {
			return f, fmt.Errorf("read audit log of project %q: %w", f.Project, err)
		}
		if !p.Admin {
			// A project the caller cannot see answers like one that does
			// not exist (projects.Visible), so names cannot be probed.
			if have, err := access.Permissions(ctx, q, p, pr.ID); err != nil {
				return f, err
			} else if len(have) == 0 {
				return f, errs.Errorf(errs.NotFound, "Project %q does not exist or you have no access to it.", f.Project)
			}
		}
		return f, access.Require(ctx, q, p, access.Project{ID: pr.ID, Name: pr.Name}, access.AuditView)
	}
	if p.Admin {
		return f, nil
	}
	names, err := l.AuditableProjects(ctx, p)
	if err != nil {
		return f, err
	}
	if len(names) == 0 {
		return f, errs.Errorf(errs.Forbidden, "You need the %s permission in at least one project to read the audit log.", access.AuditView)
	}
	f.Projects = names
	return f, nil
}

// deletedProject decides about a project filter naming no existing project:
// an admin may still read the entries of a deleted project; anything else is
// not found.
func (l *Log) deletedProject(ctx context.Context, q *queries.Queries, p access.Principal, name string) error {
	if p.Admin {
		mentioned, err := q.AuditMentionsProject(ctx, name)
		if err != nil {
			return fmt.Errorf("read audit log of project %q: %w", name, err)
		}
		if mentioned {
			return nil
		}
	}
	if p.Admin {
		return errs.Errorf(errs.NotFound, "Project %q does not exist.", name)
	}
	return errs.Errorf(errs.NotFound, "Project %q does not exist or you have no access to it.", name)
}
