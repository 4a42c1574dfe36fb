export function createPrompter(internals) { return {}; }
