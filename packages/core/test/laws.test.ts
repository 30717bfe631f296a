import { it } from '@jest/globals';
import { noop, pipeline } from '@bulwark/core';
import { policyLaws, policyMonoidLaws } from '@bulwark/testkit';

policyMonoidLaws(it);
policyLaws(it, 'noop', () => noop);
policyLaws(it, 'pipeline(noop, noop, noop)', () => pipeline(noop, noop, noop), { concurrent: true });
