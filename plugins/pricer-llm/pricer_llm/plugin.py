"""Entry point of the pricer-llm plugin: predictors, preprocessors and the `llm`/`batch` commands."""

from pricer_core import hookimpl

from .batch import GroqBatch
from .predictors import KnnEmbed, LLMPredictor, LLMRag
from .summarize import LLMSummary


@hookimpl
def register_predictors(register) -> None:
    register(LLMPredictor)
    register(LLMRag)
    register(KnnEmbed)


@hookimpl
def register_preprocessors(register) -> None:
    register(LLMSummary)
    register(GroqBatch)


@hookimpl
def register_commands(cli) -> None:
    from .commands import batch_group, finetune_group, llm_group

    cli.add_command(llm_group)
    cli.add_command(batch_group)
    cli.add_command(finetune_group)
