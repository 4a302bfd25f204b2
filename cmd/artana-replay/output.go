package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/artana-go/go-artana/internal/isotime"
)

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const (
	colorRed    = "\x1b[31m"
	colorGreen  = "\x1b[32m"
	colorYellow = "\x1b[33m"
	colorBold   = "\x1b[1m"
	colorReset  = "\x1b[0m"
)

// paint wraps s in the colour code c when colour is on.
func (e *env) paint(c, s string) string {
	if !e.color {
		return s
	}
	return c + s + colorReset
}

// statusColor is the colour of a run status.
func statusColor(s string) string {
	switch s {
	case statusComplete:
		return colorGreen
	case statusUnknown:
		return colorRed
	}
	return colorYellow
}

// writeJSON prints v as indented JSON.
func (e *env) writeJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table returns a tabwriter on stdout; Flush it when done.
func (e *env) table() *tabwriter.Writer {
	return tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
}

// jsonFloat is a float64 that JSON-encodes infinities and NaN (which the
// Python original may store as cost_usd) as strings instead of failing.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return json.Marshal(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return []byte(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

// formatCost prints a cost in US dollars one way in every table and
// line: fixed point with six decimals (a millionth of a dollar), so that
// costs line up and compare at a glance ($0.000099, $0.000100, $1.250000).
func formatCost(c float64) string {
	if math.IsInf(c, 0) || math.IsNaN(c) {
		return "$" + strconv.FormatFloat(c, 'g', -1, 64)
	}
	return "$" + strconv.FormatFloat(c, 'f', 6, 64)
}

// formatTime prints an event timestamp as the ledger stores it.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return isotime.Format(t)
}

// dash prints "-" for an empty string.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// plural returns "1 run" or "2 runs".
func plural(n int64, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// shellQuote returns s as one word of a POSIX shell command: as it is when
// it holds only characters the shell leaves alone, else single-quoted.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
