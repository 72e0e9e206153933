/**
 * Markdown for retrieval: link and image targets removed, their text kept.
 * Chunks are what gets embedded, indexed for full-text search and shown as
 * snippets; absolute URLs in them (`http://host/library/os.html#...`) add the
 * same host and path tokens to every chunk of a site, which pulls unrelated
 * passages together. The document itself keeps its links.
 */
export function stripLinkTargets(markdown: string): string {
  // Linear on any input (kbflow issue 14, item 2): no bracket inside a
  // link's text or (outside its one level of parentheses) its target, and no
  // `<` inside an autolink, so a failed match never scans past the next
  // place another match could start. A page of thousands of `[` or `<http://`
  // costs one pass.
  return (
    markdown
      // images: ![alt](src "title") -> alt
      .replace(/!\[([^\][]*)\]\((?:[^()\s[\]]|\([^()]*\))*(?:\s+"[^"]*")?\)/g, '$1')
      // links: [text](href "title") -> text (hrefs may hold one level of parentheses)
      .replace(/\[([^\][]*)\]\((?:[^()\s[\]]|\([^()]*\))*(?:\s+"[^"]*")?\)/g, '$1')
      // autolinks: <https://example.com> -> https://example.com is still a URL; drop it
      .replace(/<https?:\/\/[^<>\s]+>/g, '')
  );
}
