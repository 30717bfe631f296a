import { describe, expect, it } from '@jest/globals';
import { Scope } from '@bulwark/core';

const task = async (): Promise<void> => undefined;

describe('Scope', () => {
  it("is the caller's signal itself when nothing inside the call can abort on its own", () => {
    const controller = new AbortController();
    const root = Scope.root(task, controller.signal);
    expect(root.signal).toBe(controller.signal);
    expect(root.child(false).signal).toBe(controller.signal);
  });

  it('aborts an abortable child without touching its parent, and keeps the first reason', () => {
    const root = Scope.root(task);
    const child = root.child(true);
    const first = new Error('first');
    child.abort(first);
    child.abort(new Error('second'));
    expect(child.aborted).toBe(true);
    expect(child.signal.aborted).toBe(true);
    expect(child.signal.reason).toBe(first);
    expect(child.reason).toBe(first);
    expect(root.aborted).toBe(false);
    expect(root.signal.aborted).toBe(false);
  });

  it('aborts children, read before or after, when the caller aborts', () => {
    const controller = new AbortController();
    const root = Scope.root(task, controller.signal);
    const early = root.child(true);
    const earlySignal = early.signal;
    const late = root.child(true).child(false);
    const reason = new Error('caller');
    controller.abort(reason);
    expect(earlySignal.aborted).toBe(true);
    expect(earlySignal.reason).toBe(reason);
    expect(late.aborted).toBe(true);
    expect(late.signal.reason).toBe(reason);
  });

  it('combines signals only when something outside the scope can abort (AbortSignal.any leaks on Node 20)', () => {
    const original = AbortSignal.any.bind(AbortSignal);
    let combined = 0;
    AbortSignal.any = (signals) => {
      combined++;
      return original(signals);
    };
    try {
      const alone = Scope.root(task).child(true);
      expect(alone.signal.aborted).toBe(false);
      alone.abort(new Error('timeout'));
      expect(alone.signal.aborted).toBe(true);
      expect(combined).toBe(0);
      // Under another abortable scope, or with a caller's signal, the outer abort must reach it.
      const outer = Scope.root(task).child(true);
      const inner = outer.child(true);
      const innerSignal = inner.signal;
      outer.abort(new Error('outer'));
      expect(innerSignal.aborted).toBe(true);
      const caller = new AbortController();
      const underCaller = Scope.root(task, caller.signal).child(true).signal;
      caller.abort(new Error('caller'));
      expect(underCaller.aborted).toBe(true);
      expect(combined).toBe(2);
    } finally {
      AbortSignal.any = original;
    }
  });

  it('ignores abort on a scope that cannot abort on its own', () => {
    const root = Scope.root(task);
    root.abort(new Error('no'));
    expect(root.aborted).toBe(false);
    expect(root.child(false, 2).attempt).toBe(2);
  });

  it('says whether it may ever abort, without making a signal', () => {
    const task = async (): Promise<void> => undefined;
    const quiet = Scope.root(task);
    expect(quiet.mayAbort).toBe(false);
    expect(quiet.child(false).mayAbort).toBe(false);
    expect(quiet.nested(task).mayAbort).toBe(false);
    expect(quiet.child(true).mayAbort).toBe(true);
    expect(quiet.child(true).child(false).mayAbort).toBe(true);
    const caller = new AbortController();
    expect(Scope.root(task, caller.signal).mayAbort).toBe(true);
    expect(Scope.root(task, caller.signal).nested(task).mayAbort).toBe(true);
  });

  it('shares the correlation id across child and nested scopes', () => {
    const root = Scope.root(task);
    const id = root.child(true).correlationId;
    expect(root.correlationId).toBe(id);
    expect(root.nested(task).correlationId).toBe(id);
  });
});
