/** The small slice of XDM shapes the generators share. */

export type AuthenticatedState = "ambiguous" | "authenticated" | "loggedOut";

export interface Identity {
  id: string;
  primary?: boolean;
  authenticatedState?: AuthenticatedState;
}

export type IdentityMap = Record<string, Array<Identity>>;

export const primary = (id: string, authenticatedState?: AuthenticatedState): Array<Identity> => [
  authenticatedState ? { id, primary: true, authenticatedState } : { id, primary: true },
];

export const secondary = (id: string, authenticatedState?: AuthenticatedState): Array<Identity> => [
  authenticatedState ? { id, primary: false, authenticatedState } : { id, primary: false },
];

/** ISO instant `secondsAgo` before the anchor, whole seconds for readability. */
export const isoBefore = (anchorMs: number, secondsAgo: number): string =>
  new Date(Math.floor(anchorMs / 1000) * 1000 - secondsAgo * 1000).toISOString();
