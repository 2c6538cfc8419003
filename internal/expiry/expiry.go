// Package expiry is the one view of everything Keyward holds that has an
// end date: certificates (per environment), truststore CAs, signer alias
// rotations, personal API access tokens and gateway tokens. Triggers keep
// the expiries table (schema.sql, version 8) in the same transaction as each
// object, so this package only reads it: one indexed range per page.
package expiry

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/query"
	"github.com/keyward/keyward/queries"
)

// Type is a kind of object with an end date.
type Type string

const (
	Certificate    Type = "certificate"
	TruststoreCA   Type = "truststore_ca"
	SignerRotation Type = "signer_rotation"
	APIToken       Type = "api_token"
	GatewayToken   Type = "gateway_token"
	KeySetExpiry   Type = "key_set_expiration"
	KeySetRotation Type = "key_set_rotation"
)

// Types lists every type, in the order filters offer them.
var Types = []Type{Certificate, TruststoreCA, SignerRotation, KeySetExpiry, KeySetRotation, APIToken, GatewayToken}

// Label is the type as pages name it.
func (t Type) Label() string {
	switch t {
	case Certificate:
		return "Certificate"
	case TruststoreCA:
		return "Truststore CA"
	case SignerRotation:
		return "Signer rotation"
	case APIToken:
		return "Personal access token"
	case GatewayToken:
		return "Gateway token"
	case KeySetExpiry:
		return "Key set expiration"
	case KeySetRotation:
		return "Key set rotation"
	}
	return string(t)
}

// Statuses by days left.
const (
	Expired  = "expired"
	Critical = "critical" // 7 days or fewer
	Warning  = "warning"  // 30 days or fewer
	OK       = "ok"
)

// Item is one object's end date as the user may see it.
type Item struct {
	Type        Type
	ID          int64 // the row in the object's own table
	Project     string
	Environment string
	Name        string
	Detail      string // a certificate's subject, a token's owner, the rotation step
	At          time.Time
	DaysLeft    int // whole days from now; negative once past
	Status      string
	Link        string // the object's page
	Next        string // what to do next
}

// Sort orders.
var sorts = map[string]string{
	"date":         "e.at, e.id",
	"-date":        "e.at DESC, e.id DESC",
	"type":         "e.type, e.at, e.id",
	"name":         "e.name, e.at, e.id",
	"project":      "e.project_name, e.at, e.id",
	"environment":  "e.environment_name, e.at, e.id",
	"-type":        "e.type DESC, e.at, e.id",
	"-name":        "e.name DESC, e.at, e.id",
	"-project":     "e.project_name DESC, e.at, e.id",
	"-environment": "e.environment_name DESC, e.at, e.id",
}

// SortKeys are the accepted sort values.
func SortKeys() []string {
	out := make([]string, 0, len(sorts))
	for k := range sorts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MaxPageSize bounds a page.
const MaxPageSize = 500

// Filter selects items.
type Filter struct {
	Within      time.Duration // 0: any date; otherwise what ends before now+Within (past ends included)
	Status      string        // "": any; Expired, Critical (7 days or fewer), Warning (8 to 30 days) or OK
	Project     string
	Type        Type
	Environment string
	Sort        string // a key of sorts; "" = date
	Page, Size  int
}

// ParseDuration reads a duration as Go writes it, plus d for days ("30d",
// "12h", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var total time.Duration
	if i := strings.Index(s, "d"); i > 0 {
		days, err := strconv.Atoi(s[:i])
		if err != nil || days < 0 || days > 36500 {
			return 0, fmt.Errorf("bad day count")
		}
		total, s = time.Duration(days)*24*time.Hour, s[i+1:]
	}
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}

// ParseFilter reads a filter from query parameters.
func ParseFilter(v url.Values) (Filter, error) {
	f := Filter{Project: strings.TrimSpace(v.Get("project")), Environment: strings.TrimSpace(v.Get("environment")),
		Type: Type(strings.TrimSpace(v.Get("type"))), Sort: strings.TrimSpace(v.Get("sort"))}
	if w := strings.TrimSpace(v.Get("within")); w != "" {
		d, err := ParseDuration(w)
		if err != nil || d <= 0 {
			return f, errs.FieldErrorf("within", "Within %q is not a duration such as 30d, 7d or 12h.", w)
		}
		f.Within = d
	}
	switch f.Status = strings.ToLower(strings.TrimSpace(v.Get("status"))); f.Status {
	case "", Expired, Critical, Warning, OK:
	default:
		return f, errs.FieldErrorf("status", "Status %q is not one of expired, critical (7 days or fewer), warning (8 to 30 days) or ok.", v.Get("status"))
	}
	if f.Type != "" && !validType(f.Type) {
		names := make([]string, len(Types))
		for i, t := range Types {
			names[i] = string(t)
		}
		return f, errs.FieldErrorf("type", "Type %q is not one of %s.", f.Type, strings.Join(names, ", "))
	}
	if _, ok := sorts[f.Sort]; f.Sort != "" && !ok {
		return f, errs.FieldErrorf("sort", "Sort %q is not one of %s.", f.Sort, strings.Join(SortKeys(), ", "))
	}
	var err error
	if f.Page, err = query.Count("page", strings.TrimSpace(v.Get("page")), 0, math.MaxInt32); err != nil {
		return f, err
	}
	f.Size, err = query.Count("size", strings.TrimSpace(v.Get("size")), 0, MaxPageSize)
	return f, err
}

func validType(t Type) bool {
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// Page is one page of items.
type Page struct {
	Items      []Item
	Total      int64 // every item matching the filter
	Page, Size int
	Now        time.Time // the time days left count from
}

// Service reads the expiries.
type Service struct {
	db    *db.DB
	clock clock.Clock
}

// NewService returns the expiry Service.
func NewService(d *db.DB, c clock.Clock) *Service { return &Service{db: d, clock: c} }

// scope is the SQL condition for what p may see, and its arguments. An
// admin sees everything; another user the truststores, their own tokens and,
// in each project they are a member of, the rows of the areas they hold VIEW
// in.
func scope(ctx context.Context, q *queries.Queries, p access.Principal) (string, []any, error) {
	if p.Admin {
		return "1", nil, nil
	}
	projects, err := q.ListProjectsForUser(ctx, p.UserID)
	if err != nil {
		return "", nil, fmt.Errorf("expiries: %w", err)
	}
	conds := []string{"(e.area = '' AND e.user_id IS NULL AND e.project_id IS NULL)", "e.user_id = ?"}
	args := []any{p.UserID}
	for _, pr := range projects {
		perms, err := access.Permissions(ctx, q, p, pr.ID)
		if err != nil {
			return "", nil, err
		}
		var areas []string
		for _, area := range []string{"SECRETS", "SIGNING_KEYS", "KEY_SETS"} {
			if perms[access.Permission(area+":VIEW")] {
				areas = append(areas, "'"+area+"'")
			}
		}
		if len(areas) > 0 {
			conds = append(conds, "(e.project_id = ? AND e.area IN ("+strings.Join(areas, ", ")+"))")
			args = append(args, pr.ID)
		}
	}
	return "(" + strings.Join(conds, " OR ") + ")", args, nil
}

// List returns one page of what p may see, soonest first unless f sorts
// otherwise. A project p cannot see is NotFound; an unknown environment is
// an error naming the field.
func (s *Service) List(ctx context.Context, p access.Principal, f Filter) (Page, error) {
	if !p.Authenticated() {
		return Page{}, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	if f.Size <= 0 {
		f.Size = 50
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	out := Page{Page: f.Page, Size: f.Size, Now: s.clock.Now(), Items: []Item{}}
	err := s.read(ctx, p, f, out.Now, func(tx *sql.Tx, where string, args []any) error {
		// The WHERE clause names only expiries' own columns, so the count
		// needs no join: it is read from one covering index.
		if err := tx.QueryRowContext(ctx, countSQL(where), args...).Scan(&out.Total); err != nil {
			return fmt.Errorf("count expiries: %w", err)
		}
		// The page's ids first, then their rows: the sort and the OFFSET
		// walk an index (every order has one), and only the page's rows
		// are read whole.
		items, err := s.query(ctx, tx, pageTail(where, orderBy(f)), append(args, f.Size, (f.Page-1)*f.Size), out.Now, p.Username)
		out.Items = items
		return err
	})
	return out, err
}

// Total counts what List would list for f, without reading a page: the
// project navigation's "Expiring in 30 days".
func (s *Service) Total(ctx context.Context, p access.Principal, f Filter) (int64, error) {
	if !p.Authenticated() {
		return 0, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	var n int64
	err := s.read(ctx, p, f, s.clock.Now(), func(tx *sql.Tx, where string, args []any) error {
		if err := tx.QueryRowContext(ctx, countSQL(where), args...).Scan(&n); err != nil {
			return fmt.Errorf("count expiries: %w", err)
		}
		return nil
	})
	return n, err
}

// Each calls fn for every item matching f (ignoring paging), in f's order:
// the CSV download.
func (s *Service) Each(ctx context.Context, p access.Principal, f Filter, fn func(Item) error) error {
	if !p.Authenticated() {
		return errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	now := s.clock.Now()
	return s.read(ctx, p, f, now, func(tx *sql.Tx, where string, args []any) error {
		items, err := s.query(ctx, tx, where+" ORDER BY "+orderBy(f), args, now, p.Username)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	})
}

// Counts is how many items p may see end in each window: already, within 7
// days, and in 8 to 30 days.
type Counts struct {
	Expired, Within7, Within30 int64
}

// Count returns the dashboard's counts for p.
func (s *Service) Count(ctx context.Context, p access.Principal) (Counts, error) {
	var c Counts
	if !p.Authenticated() {
		return c, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	now := s.clock.Now()
	err := s.read(ctx, p, Filter{}, now, func(tx *sql.Tx, where string, args []any) error {
		return tx.QueryRowContext(ctx, "SELECT count(*) FILTER (WHERE e.at <= ?), count(*) FILTER (WHERE e.at > ? AND e.at <= ?), "+
			"count(*) FILTER (WHERE e.at > ? AND e.at <= ?) FROM expiries e WHERE e.at <= ? AND "+where,
			append([]any{now, now, now.Add(7 * 24 * time.Hour), now.Add(7 * 24 * time.Hour), now.Add(30 * 24 * time.Hour), now.Add(30 * 24 * time.Hour)}, args...)...).
			Scan(&c.Expired, &c.Within7, &c.Within30)
	})
	return c, err
}

// countSQL counts the rows matching where.
func countSQL(where string) string { return "SELECT count(*) FROM expiries e WHERE " + where }

// pageTail is the page query's WHERE clause and order (after query's
// SELECT ... WHERE); its last two arguments are LIMIT and OFFSET. The
// subquery picks the page's ids from an index (every order has one, the
// project's and environment's names included), then only those rows are read.
func pageTail(where, order string) string {
	return "e.id IN (" + pageIDsSQL(where, order) + ") ORDER BY " + order
}

// pageIDsSQL picks a page's ids; its last two arguments are LIMIT and OFFSET.
func pageIDsSQL(where, order string) string {
	return "SELECT e.id FROM expiries e WHERE " + where + " ORDER BY " + order + " LIMIT ? OFFSET ?"
}

// selectSQL is query's statement before its WHERE clause.
const selectSQL = "SELECT e.type, e.source_id, e.project_name, e.environment_name, e.name, e.detail, e.at FROM expiries e WHERE "

func orderBy(f Filter) string {
	if o, ok := sorts[f.Sort]; ok {
		return o
	}
	return sorts["date"]
}

// read runs fn in one read transaction with the WHERE clause for p and f.
func (s *Service) read(ctx context.Context, p access.Principal, f Filter, now time.Time, fn func(tx *sql.Tx, where string, args []any) error) error {
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("expiries: %w", err)
	}
	defer tx.Rollback()
	q := queries.New(tx)
	cond, args, err := scope(ctx, q, p)
	if err != nil {
		return err
	}
	where := []string{cond}
	if !p.Admin {
		where = append(where, "e.area <> 'ADMIN'")
	}
	if f.Project != "" {
		pr, err := projects.Visible(ctx, q, p, f.Project)
		if err != nil {
			return err
		}
		where, args = append(where, "e.project_id = ?"), append(args, pr.ID)
	}
	if f.Environment != "" {
		env, err := q.GetEnvironmentByName(ctx, f.Environment)
		if err != nil {
			return errs.FieldErrorf("environment", "Environment %q does not exist.", f.Environment)
		}
		where, args = append(where, "e.environment_id = ?"), append(args, env.ID)
	}
	if f.Type != "" {
		where, args = append(where, "e.type = ?"), append(args, string(f.Type))
	}
	if f.Within > 0 {
		where, args = append(where, "e.at <= ?"), append(args, now.Add(f.Within))
	}
	// The statuses are the date ranges describe gives them.
	day := 24 * time.Hour
	switch f.Status {
	case Expired:
		where, args = append(where, "e.at <= ?"), append(args, now)
	case Critical:
		where, args = append(where, "e.at > ? AND e.at <= ?"), append(args, now, now.Add(7*day))
	case Warning:
		where, args = append(where, "e.at > ? AND e.at <= ?"), append(args, now.Add(7*day), now.Add(30*day))
	case OK:
		where, args = append(where, "e.at > ?"), append(args, now.Add(30*day))
	}
	return fn(tx, strings.Join(where, " AND "), args)
}

func (s *Service) query(ctx context.Context, tx *sql.Tx, tail string, args []any, now time.Time, viewer string) ([]Item, error) {
	rows, err := tx.QueryContext(ctx, selectSQL+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("list expiries: %w", err)
	}
	defer rows.Close()
	out := []Item{}
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.Type, &it.ID, &it.Project, &it.Environment, &it.Name, &it.Detail, &it.At); err != nil {
			return nil, fmt.Errorf("list expiries: %w", err)
		}
		out = append(out, describe(it, now, viewer))
	}
	return out, rows.Err()
}

// describe fills the days left, the status, the link and the next step;
// viewer is the user reading (their own tokens link to their account page).
func describe(it Item, now time.Time, viewer string) Item {
	it.At = it.At.UTC()
	it.DaysLeft = int(math.Floor(it.At.Sub(now).Hours() / 24))
	switch {
	case !it.At.After(now):
		it.Status = Expired
	case it.At.Sub(now) <= 7*24*time.Hour:
		it.Status = Critical
	case it.At.Sub(now) <= 30*24*time.Hour:
		it.Status = Warning
	default:
		it.Status = OK
	}
	past := it.Status == Expired
	esc := url.PathEscape
	switch it.Type {
	case Certificate:
		it.Link = "/projects/" + esc(it.Project) + "/certificates/" + esc(it.Name)
		if past {
			it.Next = "Expired: gateways in " + it.Environment + " serve a dead certificate. Upload the renewed one and deploy it."
		} else {
			it.Next = "Renew it and upload the new certificate for " + it.Environment + ", then deploy."
		}
	case TruststoreCA:
		it.Link = "/environments/" + esc(it.Environment)
		if past {
			it.Next = "Expired: remove it from " + it.Environment + "'s truststore and add its successor."
		} else {
			it.Next = "Add the CA's successor to " + it.Environment + "'s truststore before this date."
		}
	case SignerRotation:
		it.Link = "/projects/" + esc(it.Project) + "/signing-keys/signers/" + esc(it.Name)
		kind, key, _ := strings.Cut(it.Detail, " ")
		if kind == "activate" {
			it.Next = "Scheduled: " + key + " becomes the active key. Nothing to do unless the rotation should move."
		} else {
			it.Next = "Scheduled: " + key + " leaves the JWKS. Nothing to do unless tokens it signed live longer."
		}
		if past {
			it.Next = "Overdue: the step runs at the next minute's schedule; check the server is running."
		}
	case APIToken:
		it.Link = "/account"
		if it.Detail != viewer {
			it.Link = "/admin/users/" + esc(it.Detail)
		}
		if past {
			it.Next = "Expired: scripts using it get 401. Create a new token and update them."
		} else {
			it.Next = "Create a new token, switch the scripts using it, then revoke this one."
		}
	case KeySetExpiry:
		it.Link = "/projects/" + esc(it.Project) + "/key-sets/" + esc(it.Name)
		if past {
			it.Next = "Expired: the application's calls in " + it.Environment + " are refused. Subscribe it again for a new key set."
		} else {
			it.Next = "The policy ends this key set then: tell the application's owners, or subscribe again for a new one."
		}
	case KeySetRotation:
		it.Link = "/projects/" + esc(it.Project) + "/key-sets/" + esc(it.Name)
		it.Next = "Scheduled: a new key replaces the current one (the policy's grace period applies). The application must fetch it."
		if past {
			it.Next = "Overdue: the rotation runs at the next minute's schedule; check the server is running."
		}
	case GatewayToken:
		it.Link = "/environments/" + esc(it.Environment)
		if past {
			it.Next = "Expired: gateways using it can no longer read the bundle. Issue a new one and update them."
		} else {
			it.Next = "Issue a new gateway token for " + it.Environment + ", update the gateways, then revoke this one."
		}
	}
	return it
}

// Due returns the items of the project projectID that end at or before
// until, of the given types (every type when types is empty), described as
// of now: what the expiry alerts (internal/notify) look at. It checks no
// permission: Keyward's own scheduler asks, for a project's rules.
func (s *Service) Due(ctx context.Context, projectID int64, types []Type, until, now time.Time) ([]Item, error) {
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("due expiries: %w", err)
	}
	defer tx.Rollback()
	where, args := "e.project_id = ? AND e.at <= ?", []any{projectID, until}
	if len(types) > 0 {
		where += " AND e.type IN (?" + strings.Repeat(", ?", len(types)-1) + ")"
		for _, t := range types {
			args = append(args, string(t))
		}
	}
	return s.query(ctx, tx, where+" ORDER BY e.at, e.id", args, now, "")
}

// Describe fills an item's days left, status, link and next step as of now,
// as the overview shows them (alerts describe their sample this way too).
func Describe(it Item, now time.Time) Item { return describe(it, now, "") }

// ValidType reports whether t is one of Types.
func ValidType(t Type) bool { return validType(t) }
