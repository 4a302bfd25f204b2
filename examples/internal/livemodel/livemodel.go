// Package livemodel chooses the model an example talks to: its committed
// cassette, replayed offline, or a live OpenAI-compatible endpoint recorded
// into a new cassette.
package livemodel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/examples/internal/command"
	"github.com/artana-go/go-artana/openai"
	"github.com/artana-go/go-artana/recorder"
)

// Open returns the model the example talks to and a function that
// finishes with it. Without record, the model replays the cassette offline
// and never touches the network. With record, it calls the live
// OpenAI-compatible endpoint named by OPENAI_API_KEY and OPENAI_BASE_URL
// and records its answers; finish(true) then replaces the cassette with
// the new recording, while finish(false), after a failed run, leaves the
// cassette as it was.
func Open(cassette string, record bool) (artana.Model, func(ok bool) error, error) {
	if !record {
		rec, err := recorder.Open(cassette, nil)
		if errors.Is(err, recorder.ErrNoCassette) {
			return nil, nil, fmt.Errorf("%s: %w; run the example from the repository root or from its own directory, pass -cassette, or record one with -record (needs OPENAI_API_KEY)",
				cassette, recorder.ErrNoCassette)
		}
		if err != nil {
			return nil, nil, err
		}
		return rec, func(ok bool) error {
			err := rec.Close() // fails if the cassette holds calls that were not made
			if !ok {
				return nil // the run's own error says more
			}
			return err
		}, nil
	}

	if os.Getenv("OPENAI_API_KEY") == "" {
		return nil, nil, errors.New("-record calls a live endpoint and needs OPENAI_API_KEY (and OPENAI_BASE_URL for an endpoint other than OpenAI's); without -record the example replays " + cassette + " offline")
	}
	live, err := openai.New()
	if err != nil {
		return nil, nil, err
	}
	tmp := cassette + ".recording"
	rec, err := recorder.Open(tmp, live, recorder.WithMode(recorder.Record))
	if err != nil {
		return nil, nil, err
	}
	return rec, func(ok bool) error {
		if !ok {
			rec.Close()
			os.Remove(tmp)
			return fmt.Errorf("nothing recorded: %s is unchanged", cassette)
		}
		if err := rec.Close(); err != nil {
			os.Remove(tmp)
			return err
		}
		return os.Rename(tmp, cassette)
	}, nil
}

// AnsweredBy says where the model's answers come from.
func AnsweredBy(cassette string, record bool) string { return command.AnsweredBy(cassette, record) }

// DefaultCassette returns where the example's cassette lives, seen from
// the repository root (examples/NAME/testdata/NAME.cassette) or, when run
// from the example's own directory, testdata/NAME.cassette.
func DefaultCassette(name string) string {
	return command.DefaultCassette(name, filepath.Join("testdata", name+".cassette"))
}
