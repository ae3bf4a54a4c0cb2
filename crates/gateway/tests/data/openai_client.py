"""Drives an llmops server with the official OpenAI Python client.

Usage: openai_client.py BASE_URL MODEL

Prints one line per check, `name: value`, for the Rust test to assert on.
"""

import sys

import openai


def main() -> None:
    base_url, model = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(base_url=base_url, api_key="sk-llmops-test", max_retries=0)

    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Say hello"}],
    )
    print(f"complete_content: {completion.choices[0].message.content}")
    print(f"complete_finish: {completion.choices[0].finish_reason}")
    print(f"complete_prompt_tokens: {completion.usage.prompt_tokens}")

    pieces = []
    usage = None
    last_had_choices = None
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        last_had_choices = bool(chunk.choices)
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
        if chunk.usage is not None:
            usage = chunk.usage
    print(f"stream_content: {''.join(pieces)}")
    print(f"stream_usage_total: {usage.total_tokens if usage else None}")
    print(f"stream_last_chunk_has_choices: {last_had_choices}")

    models = client.models.list()
    print(f"models: {','.join(m.id for m in models.data)}")

    try:
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "x"}],
            temperature=5,
        )
        print("bad_request: not raised")
    except openai.BadRequestError as error:
        print(f"bad_request: {error.status_code} {error.body.get('param')}")


if __name__ == "__main__":
    main()
