import { describe, expect, it } from 'vitest';
import { closestName } from '../src/util/did-you-mean.js';

describe('closestName', () => {
  it('finds the name a slip of the keyboard was meant to be', () => {
    expect(closestName('lsit', ['run', 'list', 'info'])).toBe('list');
    expect(closestName('stfp', ['local', 's3', 'sftp', 'rsync', 'smb'])).toBe('sftp');
    expect(closestName('jsn', ['json', 'verbose'])).toBe('json');
    expect(closestName('retension', ['retention', 'sources'])).toBe('retention');
    expect(closestName('Verfy', ['verify', 'prune'])).toBe('verify');
  });

  it('suggests nothing far off, and never the word itself', () => {
    expect(closestName('webdav', ['local', 's3', 'sftp', 'rsync', 'smb'])).toBeUndefined();
    expect(closestName('abc', ['list', 'run'])).toBeUndefined();
    expect(closestName('list', ['list'])).toBeUndefined();
    expect(closestName('x', [])).toBeUndefined();
  });

  it('prefers the nearest of several', () => {
    expect(closestName('prnue', ['prune', 'run'])).toBe('prune');
  });
});
