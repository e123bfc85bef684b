// Folds a session's events (sorted by seq, each seq once) into what the chat shows: messages,
// streamed text, tool cards, notices and errors, plus the state of the last turn.
//
// Deltas of one run append to one agent item until that run's agent_message (which replaces the
// text with the complete message) or its end (agent_final, error).

export function foldEvents(events) {
  const items = [];
  const open = new Map(); // runId -> agent item still receiving deltas
  let turn = null; // {runId, state: 'running'|'done'|'failed'|'canceled', userText, error}
  let pinnedAgentId = null;
  let lastUserText = null;

  const agentItem = (runId, seq) => {
    let it = open.get(runId);
    if (!it) {
      it = { kind: 'agent', key: `a${seq}`, runId, text: '', streaming: true };
      items.push(it);
      open.set(runId, it);
    }
    return it;
  };

  for (const e of events) {
    const p = e.payload || {};
    const runId = p.runId || p.requestId || '_';
    switch (e.eventType) {
      case 'session_created':
        items.push({ kind: 'sys', key: `e${e.seq}`, text: `Session created${p.engine ? ` (engine ${p.engine})` : ''}.` });
        break;
      case 'user_message':
        lastUserText = p.message;
        items.push({ kind: 'user', key: `e${e.seq}`, text: p.message, seq: e.seq, at: e.createdAt });
        turn = { runId: p.runId || null, state: 'running', userText: p.message };
        break;
      case 'agent_selected':
        pinnedAgentId = p.agentId || pinnedAgentId;
        items.push({ kind: 'sys', key: `e${e.seq}`, text: 'Pinned to a node host.', agentId: p.agentId });
        if (turn && !turn.runId) turn.runId = p.runId;
        break;
      case 'agent_delta':
        agentItem(runId, e.seq).text += p.text || '';
        break;
      case 'agent_message': {
        const it = agentItem(runId, e.seq);
        if (typeof p.text === 'string') it.text = p.text;
        it.streaming = false;
        open.delete(runId);
        break;
      }
      case 'tool_call':
      case 'tool_result':
        open.delete(runId);
        items.push({ kind: 'tool', key: `e${e.seq}`, type: e.eventType, payload: p });
        break;
      case 'agent_final': {
        const it = open.get(runId);
        if (it) {
          if (!it.text && p.text) it.text = p.text;
          it.streaming = false;
          open.delete(runId);
        } else {
          const lastAgent = [...items].reverse().find((x) => x.kind === 'agent' && x.runId === runId);
          if (!lastAgent && p.text) items.push({ kind: 'agent', key: `e${e.seq}`, runId, text: p.text, streaming: false });
        }
        if (turn) turn.state = 'done';
        break;
      }
      case 'error': {
        const it = open.get(runId);
        const canceled = p.code === 'TURN_CANCELED';
        if (it) {
          it.streaming = false;
          if (canceled) it.canceled = true;
          open.delete(runId);
        }
        items.push({ kind: canceled ? 'canceled' : 'error', key: `e${e.seq}`, code: p.code || 'ERROR', message: p.message || p.error || '', stopReason: p.stopReason });
        if (turn) {
          turn.state = canceled ? 'canceled' : 'failed';
          turn.error = p.code;
        }
        break;
      }
      default:
        items.push({ kind: 'sys', key: `e${e.seq}`, text: `${e.eventType}` });
    }
  }
  return { items, turn, pinnedAgentId, lastUserText };
}
