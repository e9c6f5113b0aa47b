export interface StandinWebOptions { x?: string }
export function buildStandinWeb(): void {}
