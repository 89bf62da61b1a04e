"""Fork safety: thread pools do not survive ``fork``; a forked child (a DataLoader worker,
say) runs hyperword's work on its calling thread instead, as HF tokenizers does."""

import os

from hyperword import _hyperword

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_hyperword._mark_forked)
