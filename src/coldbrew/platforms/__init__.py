"""Platform adapters: platform events in, :class:`~coldbrew.runtime.Request` out, and back.

One file per platform. Error-to-response mapping lives in one place,
:mod:`coldbrew.platforms.http_errors`, shared by every adapter.
"""
