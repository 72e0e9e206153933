/**
 * Markdown for retrieval: link and image targets removed, their text kept.
 * Chunks are what gets embedded, indexed for full-text search and shown as
 * snippets; absolute URLs in them (`http://host/library/os.html#...`) add the
 * same host and path tokens to every chunk of a site, which pulls unrelated
 * passages together. The document itself keeps its links.
 */
export function stripLinkTargets(markdown: string): string {
  return (
    markdown
      // images: ![alt](src "title") -> alt
      .replace(/!\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+"[^"]*")?\)/g, '$1')
      // links: [text](href "title") -> text (hrefs may hold one level of parentheses)
      .replace(/\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+"[^"]*")?\)/g, '$1')
      // autolinks: <https://example.com> -> https://example.com is still a URL; drop it
      .replace(/<https?:\/\/[^>\s]+>/g, '')
  );
}
