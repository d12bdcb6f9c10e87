"""Progress bars: tqdm's when it is installed (``pip install labelhub-client[progress]``),
otherwise nothing at all; ``progress=False`` turns them off either way."""

from __future__ import annotations

from typing import Any


class NoBar:
    def __init__(self, **_: Any) -> None:
        self.n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> NoBar:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


def bar(*, enabled: bool, total: int | None, desc: str, unit: str = "it", initial: int = 0) -> Any:
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            pass
        else:
            scale = unit == "B"
            return tqdm(
                total=total,
                desc=desc,
                unit=unit,
                unit_scale=scale,
                unit_divisor=1024 if scale else 1000,
                initial=initial,
            )
    instance = NoBar()
    instance.n = initial
    return instance
