package conformance

import "encoding/json"

// What the scenarios ask, as in the real exchanges of the wire fixtures.
const (
	plainPrompt      = "Hello, how are you?"
	structuredPrompt = "Solve 2 + 2"
	toolPrompt       = "Please retrieve the secrets associated with each of these passwords: mellon,radiance"
	streamPrompt     = "Count from 1 to 5"
)

// The bodies the server answers each scenario with.
var (
	plainResponses      = []string{"openai-chat-basic.json"}
	structuredResponses = []string{"openai-chat-json-schema.json"}
	toolResponses       = []string{"openai-chat-tool-loop-turn1.json", "openai-chat-tool-loop-turn2.json"}
	streamResponses     = []string{"openai-chat-stream.sse"}
)

// mathSchema is the structured output's schema.
var mathSchema = json.RawMessage(`{"type":"object","properties":{"final_answer":{"type":"string"}},"additionalProperties":false,"required":["final_answer"]}`)

// secretToolParams is the tool's argument schema.
var secretToolParams = json.RawMessage(`{"type":"object","properties":{"password":{"title":"Password","type":"string"}},"required":["password"],"additionalProperties":false}`)

// secret is the tool: what each password opens.
func secret(argumentsJSON string) string {
	var args struct{ Password string }
	if json.Unmarshal([]byte(argumentsJSON), &args) != nil {
		return "bad arguments"
	}
	switch args.Password {
	case "mellon":
		return "Welcome to Moria!"
	case "radiance":
		return "Life before Death"
	}
	return "Unknown password"
}

func schemaMap(raw json.RawMessage) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	return m
}
