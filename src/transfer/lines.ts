/**
 * Reads NDJSON from a byte stream as numbered lines, without holding more than one chunk and one
 * line in memory. Line numbers count every line (blank ones too), as an editor shows them.
 */
export async function* numberedLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<{ number: number; text: string }> {
  const decoder = new TextDecoder();
  let rest = '';
  let number = 0;
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let start = 0;
    let end: number;
    while ((end = rest.indexOf('\n', start)) >= 0) {
      number++;
      yield { number, text: trimCr(rest.slice(start, end)) };
      start = end + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest.length > 0) yield { number: number + 1, text: trimCr(rest) };
}

const trimCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);
