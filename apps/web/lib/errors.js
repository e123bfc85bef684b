// What to do next, for the error codes the gateway sends. The gateway's own message comes first
// (it often says what to do already); this adds the next step where it does not.

const NEXT = {
  NETWORK: 'Check that the gateway is running and reachable at this address, then try again.',
  UNAUTHORIZED: 'Sign in again: run `vespid web login --user <name>` on the gateway\'s machine for a new link, or paste an access token.',
  FORBIDDEN: 'Pick another org above, or ask an owner of this org to add you (`vespid member add`).',
  NOT_FOUND: 'It may have been removed, or it belongs to another org: go back to the list.',
  SESSION_NOT_FOUND: 'It may belong to another org: pick the right org, or go back to the sessions list.',
  NO_AGENT_AVAILABLE: 'Start a node host for this org (the card on the sessions page shows the command), or create a session whose selector matches a running host.',
  PINNED_AGENT_OFFLINE: 'Start that node host again (`vespid-agent start` on its machine), or reset the node host so the next message picks another one.',
  ENGINE_NOT_AVAILABLE: 'The node host does not have this engine: create a session with an engine it has (vespid.echo.v1 works offline).',
  NODE_EXECUTION_TIMEOUT: 'The node host did not finish in time: check it (`vespid-agent status`) and retry.',
  TURN_CANCELED: 'This turn was stopped. Send a new message, or retry.',
  UNAVAILABLE: 'The gateway is busy or its storage failed: try again in a moment.',
  BAD_REQUEST: 'Check the fields and try again.',
  INTERNAL: 'An unexpected gateway error (it is in the gateway\'s log): try again, and report it if it repeats.',
  PAIRING_TOKEN_INVALID: 'Mint a new pairing token and run the new command.',
};

export function nextStep(code) {
  return NEXT[code] || 'Try again; if it repeats, the gateway\'s log says more.';
}

/** {code, message, next} for an ApiError, OperatorError, ClientError or plain Error. */
export function describe(err) {
  const code = (err && err.code) || 'INTERNAL';
  const message = (err && err.message) || String(err);
  return { code, message, next: nextStep(code) };
}
