package openai

import (
	"regexp"
	"strings"
)

// A Price is what a model charges per token, in US dollars.
type Price struct {
	Prompt       float64 // per uncached prompt token
	CachedPrompt float64 // per cached prompt token
	Completion   float64 // per completion token (reasoning tokens included)
}

// Cost returns the cost of a call that used the given tokens; cached is
// the part of prompt that was served from the prompt cache.
func (p Price) Cost(prompt, cached, completion int64) float64 {
	cached = min(max(cached, 0), prompt)
	return float64(prompt-cached)*p.Prompt + float64(cached)*p.CachedPrompt + float64(completion)*p.Completion
}

// PricesAsOf is the date of OpenAI's public list prices that DefaultPrices
// copies. Prices change: override them with WithPrices.
const PricesAsOf = "2025-08-20"

func perMillion(prompt, cached, completion float64) Price {
	return Price{Prompt: prompt / 1e6, CachedPrompt: cached / 1e6, Completion: completion / 1e6}
}

// DefaultPrices returns a fresh copy of the built-in price table (standard
// tier, as of PricesAsOf), keyed by model name.
func DefaultPrices() map[string]Price {
	return map[string]Price{
		"gpt-3.5-turbo": perMillion(0.50, 0.50, 1.50),
		"gpt-4o":        perMillion(2.50, 1.25, 10.00),
		"gpt-4o-mini":   perMillion(0.15, 0.075, 0.60),
		"gpt-4.1":       perMillion(2.00, 0.50, 8.00),
		"gpt-4.1-mini":  perMillion(0.40, 0.10, 1.60),
		"gpt-4.1-nano":  perMillion(0.10, 0.025, 0.40),
		"gpt-5":         perMillion(1.25, 0.125, 10.00),
		"gpt-5-mini":    perMillion(0.25, 0.025, 2.00),
		"gpt-5-nano":    perMillion(0.05, 0.005, 0.40),
		"o3":            perMillion(2.00, 0.50, 8.00),
		"o4-mini":       perMillion(1.10, 0.275, 4.40),
	}
}

// snapshotSuffix matches the date or version suffix of a pinned model
// snapshot: "-2024-08-06", "-0125".
var snapshotSuffix = regexp.MustCompile(`-(\d{4}-\d{2}-\d{2}|\d{4})$`)

// lookupPrice finds the price of a call: first by the requested model,
// then by the model the server says it served, then by that model without
// its snapshot suffix ("gpt-4o-2024-08-06" is priced as "gpt-4o"). A
// provider prefix such as "openai/" (OpenRouter, LiteLLM) is ignored.
func lookupPrice(prices map[string]Price, requested, served string) (Price, bool) {
	for _, name := range []string{requested, served} {
		for _, n := range []string{name, stripProvider(name)} {
			if n == "" {
				continue
			}
			if p, ok := prices[n]; ok {
				return p, true
			}
			if base := snapshotSuffix.ReplaceAllString(n, ""); base != n {
				if p, ok := prices[base]; ok {
					return p, true
				}
			}
		}
	}
	return Price{}, false
}

func stripProvider(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}
