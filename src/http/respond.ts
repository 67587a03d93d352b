/** Responses built from JSON text the store already shaped: no re-serialization on the way out. */

// One Headers instance: each Response copies it (cheaper than converting a plain object per reply).
const JSON_HEADERS = new Headers({ 'content-type': 'application/json' });

export const jsonText = (status: number, text: string) => new Response(text, { status, headers: JSON_HEADERS });

export const jsonValue = (status: number, value: unknown) => jsonText(status, JSON.stringify(value));

export const noContent = () => new Response(null, { status: 204 });
