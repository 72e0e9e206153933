/** What a document is: a crawled page, an ingested record, a support case or a knowledge article (`documents.content_type`). */
export type ContentType = 'page' | 'record' | 'case' | 'article';
