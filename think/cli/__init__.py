"""The `think` command line: this module only wires the commands together and turns typed
errors into one line each. Each command or group lives in a module of its own; commands only
parse, call the library and render. Heavy imports (the API, llama.cpp, pydantic) happen
inside commands so `think --help` is fast.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Annotated, NoReturn

import typer

from think import __version__
from think.cli.batch import batch
from think.cli.bench import app as bench_app
from think.cli.doctor import doctor
from think.cli.logs import app as logs_app
from think.cli.models import app as models_app
from think.cli.profiles import app as profiles_app
from think.cli.solve import solve
from think.cli.tune import tune
from think.cli.wording import one_line
from think.errors import Interrupted, ThinkError
from think.ui.terminal_text import printable

# `-h` as other tools take it; every command's context inherits the names from this one.
app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="Budgeted solving on a local model: spend N times the compute of one "
                       "direct answer on a question.")
app.command()(solve)
app.command()(batch)
app.command()(tune)
app.command()(doctor)
app.add_typer(bench_app, name="bench")
app.add_typer(profiles_app, name="profiles")
app.add_typer(models_app, name="models")
app.add_typer(logs_app, name="logs")


def _version(value: bool) -> None:
    if value:
        print(f"think {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False
         ) -> None:
    """Budgeted solving on consumer hardware."""


class _Stop:
    """Which signal stopped the run: SIGTERM (`timeout 60 think solve ...`, a service manager)
    ends it the way Ctrl-C does, best answer first, but with SIGTERM's own exit status."""

    terminated = False

    @classmethod
    def on_sigterm(cls, signum: int, frame: object) -> None:
        cls.terminated = True
        raise KeyboardInterrupt

    @classmethod
    def exit(cls) -> NoReturn:
        from think.bounded_http import Watchdog

        # Requests still open on a server (the other questions of a batch, a download) end
        # now, not when the server next says something.
        Watchdog.expire_all()
        # The local engine's requests of those questions stop at the loop's next step instead
        # of decoding on while the process exits (the module is loaded where a model ran).
        lanes = sys.modules.get("think.engine.llama.lanes")
        if lanes is not None:
            lanes.abandon_all()
        print("Terminated." if cls.terminated else "Interrupted.", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM if cls.terminated else Interrupted.exit_code)


def main() -> None:
    """Console entry point: run the app, turning ThinkErrors into one-line messages."""
    previous = signal.signal(signal.SIGTERM, _Stop.on_sigterm)
    _Stop.terminated = False
    lanes = sys.modules.get("think.engine.llama.lanes")
    if lanes is not None:  # a run before this one in the process (tests) was stopped
        lanes.reopen()
    try:
        app(prog_name="think")
    except Interrupted as exc:
        if exc.best_answer is not None:
            print(printable(exc.best_answer), flush=True)
        _Stop.exit()
    except (ThinkError, PermissionError) as exc:
        if os.environ.get("THINK_DEBUG"):
            raise
        error = _no_access(exc) if isinstance(exc, PermissionError) else exc
        print(printable(one_line(error)), file=sys.stderr)  # it may quote a server
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        _Stop.exit()
    except SystemExit as exc:
        if exc.code == Interrupted.exit_code:  # typer's word for a KeyboardInterrupt it caught
            _Stop.exit()
        raise
    except Exception as exc:  # noqa: BLE001 - a bug still ends in one line, not a traceback
        if os.environ.get("THINK_DEBUG"):
            raise
        print(printable(f"Error: internal error: {type(exc).__name__}: {exc} (a bug in think; "
                        "THINK_DEBUG=1 shows the traceback)"), file=sys.stderr)
        sys.exit(1)
    finally:
        _settle_history()
        signal.signal(signal.SIGTERM, previous)


def _no_access(exc: PermissionError) -> ThinkError:
    """A file or folder think may not read or write (another user's THINK_HOME, a cache
    made read-only): where, and what to do, whichever command met it."""
    if exc.filename is None:
        return ThinkError(f"permission denied: {exc.strerror or exc}",
                          "run think as a user allowed to do this")
    return ThinkError(f"permission denied on {exc.filename}",
                      "make it readable and writable by you, or set THINK_HOME to a folder "
                      "of your own")


def _settle_history() -> None:
    """Give the history rows still being written (after the answer printed) their moment,
    and say so for any that do not make it."""
    writer = sys.modules.get("think.history_writer")  # imported only by a run that logs
    if writer is None:
        return
    try:
        left = writer.drain(writer.EXIT_WAIT_S)
    except KeyboardInterrupt:  # a second Ctrl-C: stop now
        return
    if left:
        print(f"think: note: {left} run{'s' if left > 1 else ''} not logged: the run history "
              "stayed busy", file=sys.stderr)


if __name__ == "__main__":
    main()
