package recorder

// Unexported names the external tests use.
var (
	CassetteName    = cassetteName
	RerecordCommand = rerecordCommand
)

const RecordType = recordType
