package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/artana-go/go-artana/sqlite"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ledger")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	clock := artanatest.SteppingClock(time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC), time.Second)
	s, err := sqlite.Open(ctx, filepath.Join(dir, "runs", "ledger.db"),
		sqlite.WithStoreOptions(ledger.WithEventClock(clock), ledger.WithEventIDs(artanatest.SequentialIDs())))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range []ledger.Payload{
		&ledger.RunStarted{},
		&ledger.PauseRequested{Reason: "needs review"},
		&ledger.ResumeRequested{},
	} {
		if _, err := s.Append(ctx, "run-1", "org", p); err != nil {
			fmt.Println(err)
			return
		}
	}
	err = s.Scan(ctx, "run-1", 1, func(e ledger.Event) error {
		fmt.Println(e.Seq, e.Type, isotime.Format(e.Timestamp))
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println("verify:", s.Verify(ctx, "run-1"))
	_ = s.Close()
	// Output:
	// 2 pause_requested 2024-03-01T00:00:00+00:00
	// 3 resume_requested 2024-03-01T00:00:01+00:00
	// verify: <nil>
}
