import { DFEW_CLASSES } from '../../src/config.js';
import {
  AnnotationError,
  labelResolver,
  parseClassList,
  resolveClassName,
  resolveLabel,
} from '../../src/data/classes.js';

const DFEW = [...DFEW_CLASSES];

describe('resolveLabel', () => {
  test('class names: case-insensitive, trimmed', () => {
    expect(resolveLabel('happiness', DFEW)).toBe(0);
    expect(resolveLabel('  Fear ', DFEW)).toBe(6);
    expect(resolveLabel('NEUTRAL', DFEW)).toBe(2);
  });

  test('the usual variants (FERV39k and MAFW spellings)', () => {
    const variants: [string, number][] = [
      ['Happy', 0],
      ['sad', 1],
      ['Angry', 3],
      ['surprised', 4],
      ['Disgusted', 5],
      ['fearful', 6],
      ['Surprise', 4],
      ['Disgust', 5],
    ];
    for (const [raw, i] of variants) expect([raw, resolveLabel(raw, DFEW)]).toEqual([raw, i]);
  });

  test('variants resolve only to classes the list has, in either direction', () => {
    const user = ['happy', 'sad', 'other'];
    expect(resolveLabel('happiness', user)).toBe(0);
    expect(resolveLabel('Sadness', user)).toBe(1);
    expect(resolveLabel('angry', user)).toBeNull();
    expect(resolveLabel('anger', user)).toBeNull();
    expect(resolveLabel('fear', ['happiness', 'sadness'])).toBeNull();
    expect(resolveLabel('Other', user)).toBe(2);
  });

  test('integer indices, 0-based or 1-based, in range', () => {
    expect(resolveLabel('0', DFEW)).toBe(0);
    expect(resolveLabel('6', DFEW)).toBe(6);
    expect(resolveLabel('7', DFEW)).toBeNull();
    expect(resolveLabel('1', DFEW, 1)).toBe(0);
    expect(resolveLabel('7', DFEW, 1)).toBe(6);
    expect(resolveLabel('0', DFEW, 1)).toBeNull();
    expect(resolveLabel('8', DFEW, 1)).toBeNull();
    expect(resolveLabel(' 3 ', DFEW)).toBe(3);
    expect(resolveLabel('3.0', DFEW)).toBe(3); // as spreadsheets re-save integers
  });

  test('unknown, negative, fractional and empty labels are null', () => {
    for (const raw of ['', ' ', 'contempt', '-1', '2.5', '1e0', 'happy sad', 'hap'])
      expect([raw, resolveLabel(raw, DFEW)]).toEqual([raw, null]);
  });

  test('resolveClassName never reads indices; labelResolver matches resolveLabel', () => {
    expect(resolveClassName('3', DFEW)).toBeNull();
    expect(resolveClassName('Angry', DFEW)).toBe(3);
    const r = labelResolver(DFEW, { base: 1 });
    for (const raw of ['1', '7', '0', 'Happy', 'x']) expect(r(raw)).toBe(resolveLabel(raw, DFEW, 1));
    expect(labelResolver(DFEW, { indices: false })('2')).toBeNull();
  });
});

describe('parseClassList', () => {
  test('comma-separated names, trimmed', () => {
    expect(parseClassList('happy,sad, neutral ,Angry')).toEqual(['happy', 'sad', 'neutral', 'Angry']);
    expect(parseClassList('happiness')).toEqual(['happiness']);
  });

  test('empty, blank entries, duplicates and numbers are AnnotationErrors with clear messages', () => {
    expect(() => parseClassList('')).toThrow(AnnotationError);
    expect(() => parseClassList('  ')).toThrow(/--classes is empty/);
    expect(() => parseClassList('happy,,sad')).toThrow(/entry 2 is empty/);
    expect(() => parseClassList('happy,sad,')).toThrow(/entry 3 is empty/);
    expect(() => parseClassList('happy,sad,Happy')).toThrow(/"Happy" repeats "happy"/);
    expect(() => parseClassList('happy,happiness')).toThrow(/"happiness" repeats "happy"/);
    expect(() => parseClassList('happy,3')).toThrow(/"3" is a number/);
  });

  test('AnnotationError is an Error subclass', () => {
    try {
      parseClassList('a,a');
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(AnnotationError);
      expect(e).toBeInstanceOf(Error);
    }
  });
});
