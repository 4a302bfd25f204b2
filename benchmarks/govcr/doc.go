// Package govcr compares replaying a recorded agent test through artana's
// recorder and kernel with replaying the same calls through go-vcr and
// openai-go. It is a module of its own, so that the main module does not
// depend on go-vcr.
//
//	cd benchmarks/govcr && go test -run '^$' -bench . -benchtime 200x
//
// testdata/openai-chat-json-schema.json is the OpenAI response body of
// ../../../shared/fixtures/wire/openai-chat-json-schema.json (see its
// PROVENANCE.md): a strict json_schema structured output recorded from
// the live API.
package govcr
