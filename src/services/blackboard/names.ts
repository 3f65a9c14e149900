// Topic names and topic patterns. A topic is segments of letters, digits, `_`
// and `-` joined by `.` or `/` (`plan.step1`, `sum/partial/3`); a pattern is a
// glob over topics (base/glob.ts: `*` any run of characters but `/`, `**` any
// run, `?` one character). With dot-separated topics, `plan.*` selects the same
// topics as the capability pattern `blackboard.read.plan.*`.

import { segmentGlobRegExp } from '../../base/glob.js';
import { BlackboardCodes, BlackboardError } from './errors.js';

export const MAX_TOPIC_LENGTH = 256;

const TOPIC = /^[A-Za-z0-9_-]+(?:[./][A-Za-z0-9_-]+)*$/;
const PATTERN = /^[A-Za-z0-9_./*?-]+$/;

export function checkTopic(topic: unknown, field = 'topic'): string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC_LENGTH || !TOPIC.test(topic)) {
    throw new BlackboardError(
      BlackboardCodes.invalidTopic,
      `${field} must be 1-${MAX_TOPIC_LENGTH} characters: segments of letters, digits, _ and - joined by . or / (got ${show(topic)})`,
      { field },
    );
  }
  return topic;
}

export function checkPattern(pattern: unknown, field = 'pattern'): string {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_TOPIC_LENGTH || !PATTERN.test(pattern)) {
    throw new BlackboardError(
      BlackboardCodes.invalidTopic,
      `${field} must be a glob of 1-${MAX_TOPIC_LENGTH} characters over topic characters and * ? (got ${show(pattern)})`,
      { field },
    );
  }
  return pattern;
}

/** Does the glob `pattern` select `topic`? */
export function topicMatches(pattern: string, topic: string): boolean {
  return segmentGlobRegExp(pattern).test(topic);
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v) : typeof v);
