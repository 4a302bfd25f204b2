package ledger

import "fmt"

// A MessageError is a conversation that no provider would accept: a tool
// message that answers no tool call, a call id used twice, a tool call
// left unanswered. CheckConversation returns it; artana's kernel returns
// it wrapped in an error matching artana.ErrInvalidInput, before anything
// is logged.
type MessageError struct {
	Index      int    // the index of the offending message in the conversation
	ToolCallID string // the tool call id concerned, "" if none
	Msg        string // what is wrong and what to do
}

// Error names the message and what is wrong with it.
func (e *MessageError) Error() string {
	return fmt.Sprintf("message %d: %s", e.Index, e.Msg)
}

// CheckConversation checks the tool-call structure of a conversation as
// Chat Completions does: only assistant messages carry tool calls, each
// with a non-empty id used once in the conversation; a tool message
// answers, by tool_call_id, a call of the assistant message before it not
// yet answered; every call is answered before the next non-tool message.
func CheckConversation(msgs []ChatMessage) error {
	calls := map[string]int{}   // call id -> index of the assistant message that made it
	pending := map[string]int{} // calls of the latest assistant message not yet answered
	var order []string          // pending call ids, in call order
	answered := map[string]int{}
	unanswered := func(next int) error {
		where := fmt.Sprintf("before message %d", next)
		if next == len(msgs) {
			where = "in the conversation"
		}
		for _, id := range order {
			if _, ok := pending[id]; ok {
				return &MessageError{Index: pending[id], ToolCallID: id,
					Msg: fmt.Sprintf("tool call %q has no tool message answering it %s; add a tool message with ToolCallID %q (artana.ToolMessage)", id, where, id)}
			}
		}
		return nil
	}
	for i, m := range msgs {
		switch {
		case m.Role == "tool":
			if m.ToolCallID == "" {
				return &MessageError{Index: i, Msg: "a tool message needs the ToolCallID of the call it answers"}
			}
			if len(m.ToolCalls) > 0 {
				return &MessageError{Index: i, ToolCallID: m.ToolCallID, Msg: "a tool message cannot carry tool calls"}
			}
			if j, ok := answered[m.ToolCallID]; ok {
				return &MessageError{Index: i, ToolCallID: m.ToolCallID,
					Msg: fmt.Sprintf("tool call %q is already answered by message %d", m.ToolCallID, j)}
			}
			if _, ok := pending[m.ToolCallID]; !ok {
				msg := fmt.Sprintf("tool message answers tool call %q, which no assistant message before it made", m.ToolCallID)
				if j, ok := calls[m.ToolCallID]; ok {
					msg = fmt.Sprintf("tool message answers tool call %q of message %d, but other messages came in between; tool messages follow the assistant message whose calls they answer", m.ToolCallID, j)
				}
				return &MessageError{Index: i, ToolCallID: m.ToolCallID, Msg: msg}
			}
			delete(pending, m.ToolCallID)
			answered[m.ToolCallID] = i
			continue
		case m.ToolCallID != "":
			return &MessageError{Index: i, ToolCallID: m.ToolCallID,
				Msg: fmt.Sprintf("only tool messages carry a ToolCallID; this one has role %q", m.Role)}
		case len(m.ToolCalls) > 0 && m.Role != "assistant":
			return &MessageError{Index: i, Msg: fmt.Sprintf("only assistant messages carry tool calls; this one has role %q", m.Role)}
		}
		if err := unanswered(i); err != nil {
			return err
		}
		clear(pending)
		order = order[:0]
		for _, c := range m.ToolCalls {
			if c.ID == "" {
				return &MessageError{Index: i, Msg: fmt.Sprintf("tool call of %q has no id; every tool call in a conversation needs the id the model gave it", c.ToolName)}
			}
			if c.ToolName == "" {
				return &MessageError{Index: i, ToolCallID: c.ID, Msg: fmt.Sprintf("tool call %q names no tool", c.ID)}
			}
			if j, ok := calls[c.ID]; ok {
				where := fmt.Sprintf("message %d", j)
				if j == i {
					where = "this message"
				}
				return &MessageError{Index: i, ToolCallID: c.ID,
					Msg: fmt.Sprintf("tool call id %q is already used by %s; call ids must be unique in a conversation", c.ID, where)}
			}
			calls[c.ID] = i
			pending[c.ID] = i
			order = append(order, c.ID)
		}
	}
	return unanswered(len(msgs))
}
