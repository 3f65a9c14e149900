// Name rules shared across layers, in one place: agent names (defineAgent and
// contracts must agree) and node names (createNode and the CLI must agree).

/** An agent (definition or contract) name: 1-128 letters, digits, `_`, `.`, `-`, starting alphanumeric. */
export const AGENT_NAME_PATTERN = /^[A-Za-z0-9][\w.-]{0,127}$/;

/** A node name: 1-64 letters, digits, `_`, `.`, `-`, starting alphanumeric (also a directory name). */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9][\w.-]{0,63}$/;
