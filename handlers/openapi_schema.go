package handlers

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// schema is an OpenAPI Schema Object (the parts Keyward uses).
type schema struct {
	Ref         string             `json:"$ref,omitempty"`
	Type        string             `json:"type,omitempty"`
	Format      string             `json:"format,omitempty"`
	Description string             `json:"description,omitempty"`
	Enum        []any              `json:"enum,omitempty"`
	Items       *schema            `json:"items,omitempty"`
	Properties  map[string]*schema `json:"properties,omitempty"`
	Required    []string           `json:"required,omitempty"`
	// Additional is false on response objects: a field the document does
	// not name is a difference between the two, which tests catch.
	Additional *bool  `json:"additionalProperties,omitempty"`
	Pattern    string `json:"pattern,omitempty"`
	MaxLength  int    `json:"maxLength,omitempty"`
	Minimum    *int   `json:"minimum,omitempty"`
	Maximum    *int   `json:"maximum,omitempty"`
	Default    any    `json:"default,omitempty"`
	Example    any    `json:"example,omitempty"`
}

func ref(name string) *schema   { return &schema{Ref: "#/components/schemas/" + name} }
func arrayOf(s *schema) *schema { return &schema{Type: "array", Items: s} }
func text(desc string) *schema  { return &schema{Type: "string", Description: desc} }

// between bounds an integer schema.
func between(s *schema, lo, hi, def int) *schema {
	s.Minimum, s.Maximum, s.Default = &lo, &hi, def
	return s
}

// enumOf lists values for a schema's enum.
func enumOf[T ~string](values ...T) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// apiComponent is a named schema of the document: derived from a Go type
// (Type, with Docs overlaid), or written by hand (Schema).
type apiComponent struct {
	Name string
	Type any                // a zero value of the Go type the schema describes
	Docs map[string]*schema // descriptions and constraints by JSON name
	// Required lists, for a request body, what a client must send besides
	// its requiredList fields (which are always required). For responses
	// every field without omitempty is required.
	Required []string
	Schema   *schema // written by hand; Type may then be nil
}

// direction tells whether a type is decoded from requests or encoded in
// responses: the first are open to unknown fields (the server ignores them),
// the second are closed and require every field the encoder always writes.
type direction int

const (
	asInput direction = iota + 1
	asOutput
)

func (d direction) String() string {
	return map[direction]string{asInput: "request", asOutput: "response"}[d]
}

// schemaBuilder derives schemas from Go types. A type with a component is
// built once and referenced by $ref; any other struct (a response envelope)
// is described inline.
type schemaBuilder struct {
	byType  map[reflect.Type]*apiComponent
	schemas map[string]*schema
	used    map[string]direction
}

func newSchemaBuilder(components []apiComponent) *schemaBuilder {
	b := &schemaBuilder{byType: map[reflect.Type]*apiComponent{}, schemas: map[string]*schema{}, used: map[string]direction{}}
	for i := range components {
		c := &components[i]
		if _, dup := b.schemas[c.Name]; dup {
			panic(fmt.Sprintf("openapi: schema %s defined twice", c.Name))
		}
		b.schemas[c.Name] = nil
		if c.Schema != nil {
			b.schemas[c.Name] = c.Schema
		}
		if c.Type != nil {
			b.byType[reflect.TypeOf(c.Type)] = c
		}
	}
	return b
}

// finish returns every component schema; each must have been used.
func (b *schemaBuilder) finish() map[string]*schema {
	for _, name := range slices.Sorted(maps.Keys(b.schemas)) {
		if b.schemas[name] == nil {
			panic(fmt.Sprintf("openapi: schema %s is defined but no route uses it", name))
		}
	}
	return b.schemas
}

var (
	timeType       = reflect.TypeFor[time.Time]()
	rawJSONType    = reflect.TypeFor[json.RawMessage]()
	alwaysTrueType = reflect.TypeFor[alwaysTrue]()
	listFieldType  = reflect.TypeFor[listField]()
)

// schemaOf maps a Go type to its schema; where names the route for errors.
func (b *schemaBuilder) schemaOf(t reflect.Type, dir direction, where string) *schema {
	if c := b.byType[t]; c != nil {
		return b.component(c, t, dir, where)
	}
	switch {
	case t == alwaysTrueType:
		return &schema{Type: "boolean", Enum: []any{true}}
	case t == timeType:
		return &schema{Type: "string", Format: "date-time"}
	case t == rawJSONType:
		return &schema{Description: "Any JSON value."}
	case t.Implements(listFieldType):
		return arrayOf(b.schemaOf(reflect.Zero(t).Interface().(listField).itemType(), dir, where))
	case t.Kind() == reflect.String:
		return &schema{Type: "string"}
	case t.Kind() == reflect.Bool:
		return &schema{Type: "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return &schema{Type: "integer", Format: "int64"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return &schema{Type: "number"}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return &schema{Type: "string", Format: "byte"}
	case t.Kind() == reflect.Slice:
		return arrayOf(b.schemaOf(t.Elem(), dir, where))
	case t.Kind() == reflect.Pointer:
		return b.schemaOf(t.Elem(), dir, where)
	case t.Kind() == reflect.Struct:
		return b.structSchema(t, &apiComponent{}, dir, where)
	}
	panic(fmt.Sprintf("openapi: %s: no schema for Go type %s", where, t))
}

// component builds a derived component on first use, and refuses a type
// used both in requests and in responses (their schemas differ: see
// direction).
func (b *schemaBuilder) component(c *apiComponent, t reflect.Type, dir direction, where string) *schema {
	if c.Schema != nil {
		return ref(c.Name)
	}
	switch prev := b.used[c.Name]; prev {
	case 0:
		b.used[c.Name] = dir
		b.schemas[c.Name] = b.structSchema(t, c, dir, where)
	case dir:
	default:
		panic(fmt.Sprintf("openapi: %s: schema %s is used in a %s and a %s", where, c.Name, prev, dir))
	}
	return ref(c.Name)
}

// structSchema derives an object schema from a struct's JSON tags, so the
// document follows the types the handlers decode and encode. A field's
// description comes from its doc tag or from c.Docs.
func (b *schemaBuilder) structSchema(t reflect.Type, c *apiComponent, dir direction, where string) *schema {
	s := &schema{Type: "object", Properties: map[string]*schema{}}
	if dir == asOutput {
		s.Additional = new(bool)
	}
	for _, f := range reflect.VisibleFields(t) {
		name, omitempty, ok := jsonField(f)
		if !ok {
			continue
		}
		p := b.schemaOf(f.Type, dir, where)
		if d := c.Docs[name]; d != nil {
			p = p.with(d)
		} else if doc := f.Tag.Get("doc"); doc != "" {
			p = p.with(&schema{Description: doc})
		}
		s.Properties[name] = p
		if dir == asOutput && !omitempty || dir == asInput && f.Type.Implements(listFieldType) {
			s.Required = append(s.Required, name)
		}
	}
	for name := range c.Docs {
		if s.Properties[name] == nil {
			panic(fmt.Sprintf("openapi: %s documents %q, which %s lacks", c.Name, name, t))
		}
	}
	if dir == asInput {
		for _, name := range c.Required {
			if s.Properties[name] == nil {
				panic(fmt.Sprintf("openapi: %s requires %q, which %s lacks", c.Name, name, t))
			}
			if !slices.Contains(s.Required, name) {
				s.Required = append(s.Required, name)
			}
		}
	} else if c.Required != nil {
		panic(fmt.Sprintf("openapi: %s: Required is for request bodies; a response requires its fields without omitempty", c.Name))
	}
	return s
}

// jsonField returns a struct field's JSON name and whether it is omitted
// when empty; ok is false for fields encoding/json skips.
func jsonField(f reflect.StructField) (name string, omitempty, ok bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	if !f.IsExported() || f.Anonymous || name == "-" {
		return "", false, false
	}
	return cmp.Or(name, f.Name), slices.Contains(strings.Split(opts, ","), "omitempty"), true
}

// with overlays the documented description and constraints on a derived
// schema; a documented $ref, type or items replaces the derived one.
func (s *schema) with(d *schema) *schema {
	if d.Ref != "" {
		return d
	}
	out := *s
	if d.Items != nil {
		out.Items = d.Items
	}
	out.Type, out.Format = cmp.Or(d.Type, s.Type), cmp.Or(d.Format, s.Format)
	out.Description = cmp.Or(d.Description, s.Description)
	if d.Enum != nil {
		out.Enum = d.Enum
	}
	out.Pattern, out.MaxLength, out.Example = cmp.Or(d.Pattern, s.Pattern), cmp.Or(d.MaxLength, s.MaxLength), d.Example
	if d.Properties != nil {
		out.Properties, out.Required, out.Additional = d.Properties, d.Required, d.Additional
	}
	return &out
}

// allComponents lists the shared components and every resource's.
func allComponents(resources []apiResource) []apiComponent {
	out := sharedComponents()
	for _, r := range resources {
		out = append(out, r.Schemas...)
	}
	return out
}
