// Package llm is the model port of artana's kernel: what the kernel asks
// of a language model (Request) and what it gets back (Response, or a
// stream of Delta values from a StreamingModel, or an *Error with its
// class). Providers implement Model: package openai for OpenAI-compatible
// endpoints, package recorder for recorded cassettes, artanatest for
// scripted fakes; ModelFunc adapts a plain function.
//
// The kernel fills a Request from a model step (artana.ModelStep): the
// model name, the prompt as logged and the conversation sent, the output
// type's name and JSON Schema, the tools offered and the sampling options.
// The Response's output, usage and tool calls are what the kernel logs in
// model_completed.
package llm
