import { CancellationScope, condition, patched, setHandler } from '@temporalio/workflow';
import { fits } from '../budget';
import { takeBudgetAnswerSignal, takeBudgetAskSignal, type TakeBudgetAnswer, type TakeBudgetAsk } from '../messages';
import type { SeriesRun } from './state';
import type { StatusBoard } from './status';
import { tell } from './tell';

/** Patch: a take asked for while a person paused the series shows its budget wait once resumed (runs without it never did). */
const BUDGET_WAIT_AFTER_PAUSE = 'take-budget-wait-after-pause';

/**
 * Money for takes after a scene's first (the series holds the first when it starts the scene): the
 * scenes ask by signal, and asks are granted in order, held while paused or over budget.
 */
export function openTakeBudgetGate(run: SeriesRun, board: StatusBoard): void {
  const asks: TakeBudgetAsk[] = [];
  const { state, ledger } = run;
  setHandler(takeBudgetAskSignal, (ask) => {
    run.uncertain.asked(ask);
    asks.push(ask);
  });
  void CancellationScope.nonCancellable(async () => {
    for (;;) {
      await condition(() => asks.length > 0);
      const ask = asks[0];
      const what = `scene ${ask.index} (take on ${ask.provider})`;
      const grantable = () => !!state.cancelled || (!state.paused && fits(ledger, ask.index, ask.commitUsd));
      if (!grantable() && !state.paused) board.waitForBudget(what, ask.commitUsd);
      else if (!grantable() && patched(BUDGET_WAIT_AFTER_PAUSE)) {
        // Paused by a person: once resumed, a take that still does not fit waits for budget, and says so.
        await condition(() => grantable() || !state.paused);
        if (!grantable()) board.waitForBudget(what, ask.commitUsd);
      }
      await condition(grantable);
      asks.shift();
      board.budgetWaitOver(what);
      const answer: TakeBudgetAnswer = state.cancelled
        ? { granted: false, reason: `series cancelled: ${state.cancelled.reason}` }
        : { granted: true };
      if (answer.granted) run.hold(ask.index, ask.commitUsd);
      await tell(ask.sceneWorkflowId, takeBudgetAnswerSignal, answer);
    }
  });
}
