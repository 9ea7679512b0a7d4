import { describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../src/config/types.js';
import { selectDestinations } from '../src/run/select.js';

const config = {
  file: '/etc/matric-backup/backup.yaml',
  destinations: [
    { name: 'local', enabled: true },
    { name: 'nas', enabled: true },
    { name: 'offsite', enabled: false },
  ],
} as unknown as LoadedConfig;
const names = (list: { name: string }[]) => list.map((destination) => destination.name);

describe('selectDestinations', () => {
  it('without names: every enabled destination, in config order', () => {
    expect(names(selectDestinations(config))).toEqual(['local', 'nas']);
  });

  it('named ones in the order given (restore tries them so), disabled ones too, each once', () => {
    expect(names(selectDestinations(config, ['nas', 'local']))).toEqual(['nas', 'local']);
    expect(names(selectDestinations(config, ['offsite', 'nas', 'offsite']))).toEqual(['offsite', 'nas']);
  });

  it('an unknown name is a usage error naming the configured ones and the one probably meant', () => {
    expect(() => selectDestinations(config, ['nsa'])).toThrow(
      'unknown destination "nsa" (did you mean "nas"?); /etc/matric-backup/backup.yaml configures local, nas, offsite',
    );
  });
});
