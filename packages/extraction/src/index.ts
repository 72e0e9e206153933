export { extractPage, type ExtractedPage } from './extract-page.ts';
export { normalizeUrl, isSameOrigin } from './url.ts';
export { chunkMarkdown, type TextChunk, type ChunkOptions } from './chunk-markdown.ts';
export { sha256Hex } from './hash.ts';
export { stripLinkTargets } from './retrieval-text.ts';
export {
  articleDocument,
  renderArticleMarkdown,
  NO_RESOLUTION_RECORDED,
  type ArticleFields,
  type ArticleCaseLine,
  type ArticleDocumentContent,
} from './article-document.ts';
export { extractDocument, documentFormatOf, pageOfHeading, DocumentExtractionError, type DocumentFormat, type ExtractedDocument } from './binary-document.ts';
export { parseAtxHeading, trimEndOf, trimEndWhere, trimStartOf, isTableDelimiterRow, type AtxHeading } from './linear-text.ts';
export { compilePathPatterns, pathAllowed, pathPatternError, MAX_PATH_PATTERNS, MAX_PATH_PATTERN_LENGTH, type PathPatterns } from './path-patterns.ts';
