// Package conformance drives real LLM clients (openai-go, sashabaranov's
// go-openai, langchaingo's openai LLM, anthropic-sdk-go) through
// recorder.Transport: each scenario (a plain call, a structured-output
// call, a tool call with its follow-up turn, a stream) is recorded
// against an httptest server that serves real wire bodies, then replayed
// with the server stopped, and the client's parsed responses must be
// equal; one changed word of the prompt must be a typed miss. It is a
// module of its own so that the main module gains none of these clients
// as a dependency. Run it with "cd conformance && go test ./...".
package conformance
