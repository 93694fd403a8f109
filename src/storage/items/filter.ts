import { CheckpointError } from '../../errors.js';

/** The comparison operators a filter may use on a field, as LangGraph's PostgresStore names them. */
export const FILTER_OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** `{ field: value }` (equality, or containment for objects and arrays) or `{ field: { $op: operand } }`. */
export type ItemFilter = Record<string, unknown>;

type FieldTest = (fieldValue: unknown) => boolean;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Structural equality of JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a).filter((key) => a[key] !== undefined);
    return keys.length === Object.keys(b).filter((key) => b[key] !== undefined).length && keys.every((key) => jsonEqual(a[key], b[key]));
  }
  return false;
}

/** JSON containment as Postgres' `@>` has it: objects by their keys, arrays by their elements, scalars equal. */
function jsonContains(container: unknown, contained: unknown): boolean {
  if (Array.isArray(contained)) {
    return Array.isArray(container) && contained.every((part) => container.some((item) => jsonContains(item, part)));
  }
  if (isPlainObject(contained)) {
    return isPlainObject(container) && Object.entries(contained).every(([key, part]) => part === undefined || jsonContains(container[key], part));
  }
  return container === contained;
}

function invalid(field: string, problem: string): CheckpointError {
  return new CheckpointError('INVALID_CONFIG', `Invalid search filter on "${field}": ${problem}`);
}

function ordered(field: string, operator: string, operand: unknown, holds: (order: number) => boolean): FieldTest {
  if (typeof operand !== 'number' && typeof operand !== 'string') {
    throw invalid(field, `${operator} compares with a number or a string, got ${JSON.stringify(operand) ?? String(operand)}.`);
  }
  // Numbers compare with numbers and strings with strings (ISO dates order as text); other values never match.
  return (fieldValue) => typeof fieldValue === typeof operand && holds(fieldValue! < operand ? -1 : fieldValue! > operand ? 1 : 0);
}

function listOperand(field: string, operator: string, operand: unknown): unknown[] {
  if (!Array.isArray(operand)) throw invalid(field, `${operator} takes an array, got ${JSON.stringify(operand) ?? String(operand)}.`);
  return operand;
}

function operatorTest(field: string, operator: string, operand: unknown): FieldTest {
  switch (operator as FilterOperator) {
    case '$eq':
      return (fieldValue) => jsonEqual(fieldValue, operand);
    case '$ne':
      return (fieldValue) => !jsonEqual(fieldValue, operand);
    case '$gt':
      return ordered(field, operator, operand, (order) => order > 0);
    case '$gte':
      return ordered(field, operator, operand, (order) => order >= 0);
    case '$lt':
      return ordered(field, operator, operand, (order) => order < 0);
    case '$lte':
      return ordered(field, operator, operand, (order) => order <= 0);
    case '$in': {
      const options = listOperand(field, operator, operand);
      return (fieldValue) => options.some((option) => jsonEqual(fieldValue, option));
    }
    case '$nin': {
      const options = listOperand(field, operator, operand);
      return (fieldValue) => !options.some((option) => jsonEqual(fieldValue, option));
    }
    case '$exists':
      if (typeof operand !== 'boolean') throw invalid(field, `$exists takes true or false, got ${JSON.stringify(operand) ?? String(operand)}.`);
      return (fieldValue) => (fieldValue !== undefined) === operand;
    default:
      throw invalid(field, `unknown operator ${operator}; the operators are ${FILTER_OPERATORS.join(' ')}.`);
  }
}

function fieldTest(field: string, condition: unknown): FieldTest {
  if (condition === undefined || typeof condition === 'function' || typeof condition === 'symbol' || typeof condition === 'bigint') {
    throw invalid(field, `the condition must be a JSON value or an operator object, got ${typeof condition}.`);
  }
  if (isPlainObject(condition)) {
    const keys = Object.keys(condition);
    const operators = keys.filter((key) => key.startsWith('$'));
    if (operators.length > 0) {
      if (operators.length < keys.length) throw invalid(field, `it mixes operators (${operators.join(', ')}) with plain keys.`);
      const tests = operators.map((operator) => operatorTest(field, operator, condition[operator]));
      return (fieldValue) => tests.every((test) => test(fieldValue));
    }
  }
  return typeof condition === 'object' && condition !== null
    ? (fieldValue) => jsonContains(fieldValue, condition)
    : (fieldValue) => fieldValue === condition;
}

/**
 * Checks a filter and turns it into a test on stored values. Keys name top-level fields of the value; all
 * conditions must hold. Throws `INVALID_CONFIG` for anything that is not a filter.
 */
export function compileFilter(filter: unknown): (value: Record<string, unknown>) => boolean {
  if (filter === undefined || filter === null) return () => true;
  if (!isPlainObject(filter)) {
    throw new CheckpointError('INVALID_CONFIG', `A search filter must be an object of field conditions, got ${Array.isArray(filter) ? 'an array' : typeof filter}.`);
  }
  const tests = Object.entries(filter).map(([field, condition]) => [field, fieldTest(field, condition)] as const);
  return (value) => tests.every(([field, test]) => test(Object.hasOwn(value, field) ? value[field] : undefined));
}
