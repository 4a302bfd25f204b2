package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"
)

// buildParams turns the kernel's request into a Chat Completions request.
// A request that cannot be sent fails with a permanent *llm.Error
// before anything goes over the wire.
func (m *Model) buildParams(req llm.Request) (oai.ChatCompletionNewParams, error) {
	p := oai.ChatCompletionNewParams{Model: req.Model}
	if req.Model == "" {
		return p, requestError("the request names no model; set ModelRequest.Model")
	}

	msgs := req.Messages
	if len(msgs) == 0 {
		msgs = []ledger.ChatMessage{{Role: "user", Content: req.Prompt}}
	}
	var err error
	if p.Messages, err = messages(msgs); err != nil {
		return p, err
	}

	if structuredOutput(req.OutputSchema) {
		schema, strict, err := m.outputSchema(req.OutputSchema)
		if err != nil {
			return p, requestError(fmt.Sprintf("output schema of %s: %v", outputName(req.OutputName), err))
		}
		js := shared.ResponseFormatJSONSchemaJSONSchemaParam{
			Name:   outputName(req.OutputName),
			Schema: schema,
			Strict: oai.Bool(strict),
		}
		p.ResponseFormat.OfJSONSchema = &shared.ResponseFormatJSONSchemaParam{JSONSchema: js}
	}

	for _, tool := range req.Tools {
		def, err := m.toolDefinition(tool)
		if err != nil {
			return p, requestError(fmt.Sprintf("tool %q: %v", tool.Name, err))
		}
		p.Tools = append(p.Tools, oai.ChatCompletionFunctionTool(def))
	}

	o := req.Options
	if o.Temperature != nil {
		p.Temperature = oai.Float(*o.Temperature)
	}
	if o.MaxTokens != nil {
		if m.cfg.legacyMaxTokens {
			p.MaxTokens = oai.Int(*o.MaxTokens)
		} else {
			p.MaxCompletionTokens = oai.Int(*o.MaxTokens)
		}
	}
	if o.Seed != nil {
		p.Seed = oai.Int(*o.Seed)
	}
	if o.ReasoningEffort != "" {
		p.ReasoningEffort = shared.ReasoningEffort(o.ReasoningEffort)
	}
	if o.ToolChoice != "" {
		p.ToolChoice = toolChoice(o.ToolChoice)
	}
	if o.ParallelToolCalls != nil {
		p.ParallelToolCalls = oai.Bool(*o.ParallelToolCalls)
	}
	return p, nil
}

// structuredOutput reports whether an output schema asks for a JSON
// document: any schema but none and {"type":"string"}, the schema of a
// text answer (a Go string), which is asked for as plain content and
// returned as a JSON string.
func structuredOutput(schema json.RawMessage) bool {
	if len(bytes.TrimSpace(schema)) == 0 {
		return false
	}
	var s map[string]any
	if json.Unmarshal(schema, &s) == nil && len(s) == 1 && s["type"] == "string" {
		return false
	}
	return true
}

func requestError(msg string) *llm.Error {
	return &llm.Error{Class: llm.ClassPermanent, Message: "cannot build the request: " + msg}
}

// outputSchema returns the schema to send and whether to ask for strict
// mode. A schema that strict mode cannot express is sent as it is, not
// strict.
func (m *Model) outputSchema(raw json.RawMessage) (json.RawMessage, bool, error) {
	if !json.Valid(raw) {
		return nil, false, fmt.Errorf("not valid JSON")
	}
	if !m.cfg.strictOutput {
		return raw, false, nil
	}
	s, err := StrictSchema(raw)
	if err != nil {
		return raw, false, nil
	}
	return s, true, nil
}

func (m *Model) toolDefinition(t llm.ToolDefinition) (shared.FunctionDefinitionParam, error) {
	def := shared.FunctionDefinitionParam{Name: t.Name}
	if t.Name == "" {
		return def, fmt.Errorf("the tool has no name")
	}
	if t.Description != "" {
		def.Description = oai.String(t.Description)
	}
	raw := t.Schema
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = json.RawMessage(`{"type":"object","properties":{}}`)
	}
	if m.cfg.strictTools != nil {
		def.Strict = oai.Bool(*m.cfg.strictTools)
		if *m.cfg.strictTools {
			s, err := StrictSchema(raw)
			if err != nil {
				return def, fmt.Errorf("strict tools are on (openai.WithStrictTools) but %v", err)
			}
			raw = s
		}
	}
	params, err := decodeObject(raw)
	if err != nil {
		return def, fmt.Errorf("argument schema: %v", err)
	}
	def.Parameters = params
	return def, nil
}

func decodeObject(raw []byte) (map[string]any, error) {
	if !json.Valid(raw) {
		return nil, fmt.Errorf("not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if obj == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return obj, nil
}

// outputName turns an output type's name into a valid schema name
// (letters, digits, '_' and '-', at most 64 characters).
func outputName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	if b.Len() == 0 {
		return "output"
	}
	return b.String()
}

// StrictSchema adapts a JSON Schema to what OpenAI's strict structured
// outputs require: every object schema gets "additionalProperties": false
// and lists all its properties as required; a property that was optional
// becomes nullable instead (its type gains "null"), so the model answers
// null rather than leaving it out. A schema that already meets the rules
// comes back byte for byte. Object schemas that allow extra properties
// (maps) cannot be made strict and yield an error; New's Model then sends
// such an output schema without strict mode.
func StrictSchema(schema json.RawMessage) (json.RawMessage, error) {
	if !json.Valid(schema) {
		return nil, fmt.Errorf("schema is not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(schema))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("schema is not valid JSON: %v", err)
	}
	changed, err := strictify(root, "#")
	if err != nil {
		return nil, err
	}
	if !changed {
		return schema, nil
	}
	out, err := json.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("re-encode schema: %v", err)
	}
	return out, nil
}

// strictify rewrites the schema node at path, and the schemas under it,
// as OpenAI's strict mode needs them; it reports whether it changed
// anything.
func strictify(node any, path string) (bool, error) {
	obj, ok := node.(map[string]any)
	if !ok {
		return false, nil
	}
	changed := false
	props, hasProps := obj["properties"].(map[string]any)
	if hasProps || obj["type"] == "object" {
		c, err := strictObject(obj, props, path)
		if err != nil {
			return false, err
		}
		changed = c
	}
	c, err := strictSubschemas(obj, path)
	if err != nil {
		return false, err
	}
	return changed || c, nil
}

// strictObject closes the object schema obj (additionalProperties false)
// and makes every one of its properties required, an optional one
// nullable instead.
func strictObject(obj, props map[string]any, path string) (bool, error) {
	changed := false
	switch ap := obj["additionalProperties"].(type) {
	case nil:
		obj["additionalProperties"] = false
		changed = true
	case bool:
		if ap {
			return false, fmt.Errorf("%s allows additional properties, which strict mode cannot express", path)
		}
	default:
		return false, fmt.Errorf("%s has an additionalProperties schema (a map), which strict mode cannot express", path)
	}
	required := map[string]bool{}
	if list, ok := obj["required"].([]any); ok {
		for _, r := range list {
			if s, ok := r.(string); ok {
				required[s] = true
			}
		}
	}
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(props)) {
		if !required[name] {
			missing = append(missing, name)
			props[name] = nullable(props[name])
		}
	}
	if len(missing) > 0 || obj["required"] == nil {
		list, _ := obj["required"].([]any)
		for _, name := range missing {
			list = append(list, name)
		}
		if list == nil {
			list = []any{}
		}
		obj["required"] = list
		changed = true
	}
	return changed, nil
}

// strictSubschemas strictifies the schemas obj holds (properties,
// definitions, items, combinations), in key order.
func strictSubschemas(obj map[string]any, path string) (bool, error) {
	changed := false
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		var c bool
		var err error
		switch v := obj[key].(type) {
		case map[string]any:
			switch key {
			case "properties", "$defs", "definitions", "patternProperties":
				for _, name := range slices.Sorted(maps.Keys(v)) {
					ci, erri := strictify(v[name], path+"/"+key+"/"+name)
					c, err = c || ci, erri
					if err != nil {
						break
					}
				}
			case "items", "not", "additionalItems", "contains":
				c, err = strictify(v, path+"/"+key)
			}
		case []any:
			switch key {
			case "anyOf", "oneOf", "allOf", "prefixItems", "items":
				for i, item := range v {
					ci, erri := strictify(item, fmt.Sprintf("%s/%s/%d", path, key, i))
					c, err = c || ci, erri
					if err != nil {
						break
					}
				}
			}
		}
		if err != nil {
			return false, err
		}
		changed = changed || c
	}
	return changed, nil
}

// nullable makes a property schema also accept null.
func nullable(prop any) any {
	obj, ok := prop.(map[string]any)
	if !ok {
		return prop
	}
	if enum, ok := obj["enum"].([]any); ok && !slices.Contains(enum, nil) {
		obj["enum"] = append(enum, nil)
	}
	switch t := obj["type"].(type) {
	case string:
		if t != "null" {
			obj["type"] = []any{t, "null"}
		}
		return obj
	case []any:
		if !slices.Contains(t, any("null")) {
			obj["type"] = append(t, "null")
		}
		return obj
	}
	return map[string]any{"anyOf": []any{obj, map[string]any{"type": "null"}}}
}
