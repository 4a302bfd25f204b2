// Package openai provides an llm.Model that calls OpenAI-compatible
// Chat Completions endpoints: OpenAI itself, vLLM, Ollama, the llama.cpp
// server, a LiteLLM proxy or OpenRouter. It is built on the official
// github.com/openai/openai-go/v3 client.
//
// # Construction
//
// New builds a client from the environment (OPENAI_API_KEY,
// OPENAI_BASE_URL) and options (WithBaseURL, WithAPIKey, WithHTTPClient,
// WithRequestOptions), or uses a client the caller configured (WithClient).
//
//	m, err := openai.New(openai.WithBaseURL("http://localhost:11434/v1/"))
//
// # Requests
//
// The kernel's messages are sent as they are (a request without messages
// sends its prompt as one user message): an assistant message with its
// tool_calls, a tool message with the tool_call_id of the call it answers
// (one that answers no earlier call is refused before anything is sent).
// An output schema becomes a
// "json_schema" response format named after the output type, in strict
// mode unless WithStrictOutput(false): the schema is first adapted by
// StrictSchema, since strict mode wants "additionalProperties": false and
// every property required. Tools become function definitions, in order.
// ModelOptions map to temperature, max_completion_tokens (or max_tokens
// with WithLegacyMaxTokens), seed, reasoning_effort, tool_choice ("auto",
// "none", "required" or one named function) and parallel_tool_calls.
//
// # Responses
//
// With an output schema, the message content must be a JSON document and
// becomes ModelResponse.OutputJSON; without one, the content is returned
// as a JSON string. A turn that only calls tools has an empty OutputJSON.
// Tool calls keep their order and ids. Usage counts prompt, completion and
// cached prompt tokens; the cost comes from a dated price table
// (DefaultPrices, PricesAsOf) that WithPrices extends or overrides, and
// WithFailOnUnknownCost turns an unpriced model into an error.
//
// # Streaming
//
// Model is an llm.StreamingModel: Stream sends the request with
// stream: true and stream_options.include_usage, reads the answer with
// the SDK's NewStreaming and assembles it with its
// ChatCompletionAccumulator (tool-call fragments merged by index), and
// delivers one llm.Delta per chunk that carries something: content,
// reasoning (the "reasoning" or "reasoning_content" field of Ollama, vLLM
// and DeepSeek), tool-call fragments, usage. The assembled answer becomes
// the response exactly as Complete's whole answer does. The event stream
// is checked line by line before the SDK decodes it: a malformed line, an
// event that is not JSON or an event type Chat Completions never sends is
// a permanent *StreamError naming the line; a stream that ends without
// "data: [DONE]" or whose connection drops is a transient *StreamError; an
// error event inside a 200 stream is a transient *APIError naming the
// event's line. A stream that fails after a delta was delivered keeps the
// deltas in the error's Partial and is never retried (the caller has seen
// them); one that fails before its first delta is retried like a failed
// Complete. Only OpenAI-compatible Chat Completions streams are
// understood (OpenAI, Ollama, vLLM, ...); Anthropic's Messages stream
// (message_start, content_block_delta, ...) is not, and its event types
// are reported as unknown.
//
// # Errors and retries
//
// Every error is a *llm.Error whose Class says what happened:
// ClassTransient for HTTP 408, 409, 429, 5xx and reset connections;
// ClassPermanent for other HTTP errors (400, 401, 403, 404, ...) and
// unusable answers; ClassTimeout when the caller's deadline or an attempt's
// timeout passes; ClassRefusal when the model refuses (message.refusal) or
// a content filter withholds the output; ClassTruncated when
// finish_reason is "length". Transient failures and timed-out attempts are
// retried (WithRetries) with exponential backoff and jitter, or after the
// wait the endpoint's Retry-After (or retry-after-ms) asks for; the
// openai-go client's own retries are turned off so there is one policy.
//
// No error, message or log line of this package contains the API key or
// an Authorization header: errors carry an *APIError with what the
// endpoint said, never the SDK's request, and text is scrubbed of the
// configured key and of key-shaped strings.
//
// What the endpoint answers is scrubbed before anything decodes it, line
// by line, so also what a Model returns and the kernel logs: the secrets
// the request carried (the configured key, the values of the
// Authorization, api-key and x-api-key headers and of any header added
// with WithRequestOptions, except a few public ones such as Content-Type
// and User-Agent) are replaced by [REDACTED] wherever in the body they
// appear, slash-escaped or not; an error answer is also scrubbed of
// whatever looks like a credential, in every field (message, type, code,
// param). WithOutputScrubbing does the latter to successful answers too,
// at the price of changing what the model said.
package openai
