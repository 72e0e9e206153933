export {
  loadQuestionSet,
  QuestionSetFormatError,
  QUESTION_SET_FORMAT,
  QUESTIONS_FILE,
  GUIDE_FILE,
  REQUIRED_COLUMNS,
  type Guide,
  type Question,
  type QuestionSet,
} from './question-set.ts';
export { parsePythonStringList } from './python-literal.ts';
export {
  normalizedWords,
  shingles,
  locatePassage,
  locateQuestions,
  overlapsPassage,
  isRelevant,
  SHINGLE_WORDS,
  SOURCE_COVERAGE,
  CHUNK_OVERLAP,
  type LocatedPassage,
  type LocatedQuestion,
  type ExcludedQuestion,
} from './relevance.ts';
export { summarize, percentile, firstRelevantRank, RETRIEVAL_MODES, type RetrievalMode, type ModeSummary, type QuestionOutcome } from './metrics.ts';
export {
  runEvaluation,
  indexGuides,
  askQuestions,
  batchBySize,
  guideOfUrl,
  DEFAULT_SOURCE,
  type ApiCall,
  type Progress,
  type EvaluationOptions,
  type EvaluationReport,
  type IndexSummary,
} from './run-evaluation.ts';
export { formatReport } from './format-report.ts';
