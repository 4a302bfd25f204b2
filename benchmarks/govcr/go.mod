module github.com/artana-go/go-artana/benchmarks/govcr

go 1.26.0

require (
	github.com/artana-go/go-artana v0.0.0
	github.com/openai/openai-go/v3 v3.98.0
	gopkg.in/dnaeon/go-vcr.v4 v4.0.7
)

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/google/jsonschema-go v0.4.3 // indirect
	github.com/tidwall/gjson v1.20.0 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.1 // indirect
	github.com/tidwall/sjson v1.2.5 // indirect
	go.yaml.in/yaml/v4 v4.0.0-rc.6 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/artana-go/go-artana => ../..
