package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/quirehq/quire/web/auth"
)

// openAPI builds the OpenAPI 3.1 document of the routes. Schemas are made
// from the Go types the handlers write, so they cannot drift from them.
func openAPI(rts []route) map[string]any {
	sg := &schemaGen{defs: map[string]any{}}
	problem := sg.schema(reflect.TypeFor[Problem]())
	paths := map[string]map[string]any{}
	for _, rt := range rts {
		op := map[string]any{
			"operationId": rt.ID,
			"summary":     rt.Summary,
			"tags":        []string{tag(rt.Path)},
			// The scope is given as the bearer scheme's scope, as OpenAPI
			// 3.1 allows for any scheme, and in words.
			"security":    []map[string][]string{{"bearer": {string(rt.Scope)}}, {"session": {string(rt.Scope)}}},
			"description": "Needs a token of scope " + string(rt.Scope) + " or above.",
		}
		var params []map[string]any
		for _, name := range pathParams.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": name[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, p := range rt.Query {
			params = append(params, map[string]any{"name": p.Name, "in": "query", "description": p.Description, "schema": map[string]any{"type": p.Type}})
		}
		if params != nil {
			op["parameters"] = params
		}
		switch b := rt.Body.(type) {
		case nil:
		case rawBody:
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "required": []string{"file"},
					"properties": map[string]any{"file": map[string]any{"type": "string", "contentMediaType": "application/octet-stream"}}}},
				"application/octet-stream": map[string]any{"schema": map[string]any{}},
			}}
		default:
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": sg.schema(reflect.TypeOf(b))}}}
		}
		ok := map[string]any{"description": http.StatusText(rt.Status)}
		switch resp := rt.Resp.(type) {
		case nil:
		case string:
			ok["content"] = map[string]any{resp: map[string]any{"schema": map[string]any{}}}
		default:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": sg.schema(reflect.TypeOf(resp))}}
		}
		if len(rt.Headers) > 0 {
			headers := map[string]any{}
			for _, h := range rt.Headers {
				headers[h.Name] = map[string]any{"description": h.Description, "schema": map[string]any{"type": h.Type}}
			}
			ok["headers"] = headers
		}
		op["responses"] = map[string]any{
			strconv.Itoa(rt.Status): ok,
			"default": map[string]any{"description": "An error, as RFC 9457 describes it.",
				"content": map[string]any{ProblemMediaType: map[string]any{"schema": problem}}},
		}
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Quire REST API", "version": "1",
			"description": "Upload documents, read what Quire found in them, and manage the job engine. " +
				"Send an API token as \"Authorization: Bearer quire_…\"; scopes are ordered read < write < admin."},
		"paths": paths,
		"components": map[string]any{
			"schemas": sg.defs,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "An API token; its scope (" + strings.Join(scopeNames(), ", ") + ") must allow the operation."},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "quire_session",
					"description": "The web UI's session (__Host-quire_session behind HTTPS); the user's scope must allow the operation, " +
						"and a request other than GET, HEAD or OPTIONS must carry the session's CSRF token in the X-CSRF-Token header."}},
		},
	}
}

var pathParams = regexp.MustCompile(`\{([a-z_]+)\}`)

// tag groups operations by the first path segment after /api/v1.
func tag(path string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/api/v1/"), "/")
	return seg
}

func scopeNames() []string {
	out := make([]string, len(auth.Scopes))
	for i, s := range auth.Scopes {
		out[i] = string(s)
	}
	return out
}

// schemaGen makes JSON Schemas of Go types as encoding/json writes them;
// named structs go to defs and are referenced.
type schemaGen struct {
	defs map[string]any
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	rawJSONType = reflect.TypeFor[json.RawMessage]()
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawJSONType:
		return map[string]any{} // any JSON value
	case t.Kind() == reflect.Pointer:
		return g.schema(t.Elem())
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		name := t.Name()
		if name == "" {
			return g.object(t)
		}
		if _, seen := g.defs[name]; !seen {
			g.defs[name] = map[string]any{} // a placeholder stops recursion
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	default:
		return map[string]any{}
	}
}

// object is the schema of a struct's fields, embedded ones flattened.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props, required := map[string]any{}, []string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = g.schema(f.Type)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
				required = append(required, name)
			}
		}
	}
	walk(t)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}
