// Package conformance drives real LLM clients (openai-go, sashabaranov's
// go-openai, langchaingo's openai LLM) through recorder.Transport: each
// scenario is recorded against an httptest server that serves real wire
// bodies, then replayed with the server stopped, and the client's parsed
// responses must be equal. It is a module of its own so that the main
// module gains none of these clients as a dependency.
package conformance
