package publish

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/queries"
)

// EnvConfig is what the pipeline needs of one submitted per-environment
// configuration: where it is in the request and which environment it names.
type EnvConfig interface {
	// Ref returns the input's field path ("cryptoKeyInfoEnvironmentList[1]"),
	// the environment's name and the alias ("" when the type has none).
	Ref() (field, environment, alias string)
}

// Prepared is one configuration that passed the pipeline: the input, its
// environment and what the type's parse function made of it.
type Prepared[I EnvConfig, P any] struct {
	In     I
	Field  string
	Env    queries.Environment
	Parsed P
}

// MaxAlias is the longest alias accepted.
const MaxAlias = 200

// Prepare validates a per-environment list: at least one entry (named
// listField in the error), every environment named, existing and listed
// once, aliases that are labels, and then each entry parsed by the type's
// parse function. Nothing is written; the caller seals and stores.
func Prepare[I EnvConfig, P any](ctx context.Context, q *queries.Queries, listField string, in []I,
	parse func(field string, c I, env queries.Environment) (P, error)) ([]Prepared[I, P], error) {
	if len(in) == 0 {
		return nil, errs.FieldErrorf(listField, "Configure at least one environment.")
	}
	seen := map[string]string{}
	out := make([]Prepared[I, P], 0, len(in))
	for _, c := range in {
		field, envName, alias := c.Ref()
		env, err := environment(ctx, q, field+".environmentName", envName, seen, field, "configured")
		if err != nil {
			return nil, err
		}
		if err := names.ValidateLabel(field+".alias", "The alias", alias, MaxAlias); err != nil {
			return nil, err
		}
		parsed, err := parse(field, c, env)
		if err != nil {
			return nil, err
		}
		out = append(out, Prepared[I, P]{In: c, Field: field, Env: env, Parsed: parsed})
	}
	return out, nil
}

// environment resolves one entry's environment, refusing one named twice.
func environment(ctx context.Context, q *queries.Queries, field, name string, seen map[string]string, entry, verb string) (queries.Environment, error) {
	if name == "" {
		return queries.Environment{}, errs.FieldErrorf(field, "Choose the environment: it is required.")
	}
	if first, dup := seen[name]; dup {
		return queries.Environment{}, errs.FieldErrorf(field, "Environment %q is %s twice (also in %s).", name, verb, first)
	}
	seen[name] = entry
	env, err := q.GetEnvironmentByName(ctx, name)
	if errors.Is(err, sql.ErrNoRows) {
		return env, errs.FieldErrorf(field, "Environment %q does not exist.", name)
	}
	return env, err
}

// Environments resolves a plain list of environment names (a JWK's
// environmentNames) the same way: each existing and listed once.
func Environments(ctx context.Context, q *queries.Queries, listField string, list []string) ([]queries.Environment, error) {
	if len(list) == 0 {
		return nil, errs.FieldErrorf(listField, "Name at least one environment.")
	}
	seen := map[string]string{}
	out := make([]queries.Environment, 0, len(list))
	for i, name := range list {
		field := listField + "[" + strconv.Itoa(i) + "]"
		env, err := environment(ctx, q, field, name, seen, field, "listed")
		if err != nil {
			return nil, err
		}
		out = append(out, env)
	}
	return out, nil
}
