"""One window per library: a second launch hands over to the running one and exits.

The first instance listens on a local socket named after the library folder; a later launch on the
same library connects, asks it to come forward, and quits before it opens the library or touches the
settings file (so it can never rewrite the first one's watched folders).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

CONNECT_MS = 1000
RAISE = b"raise\n"


def server_name(library_root: Path) -> str:
    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "")
    digest = hashlib.sha1(f"{user}:{library_root}".encode()).hexdigest()[:16]
    return f"photosearch-{digest}"


class SingleInstance(QObject):
    activated = Signal()  # another launch asked this one to come forward

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server: QLocalServer | None = None

    def hand_over(self) -> bool:
        """True when another instance answered (and was asked to come forward)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_MS):
            return False
        socket.write(RAISE)
        socket.waitForBytesWritten(CONNECT_MS)
        socket.disconnectFromServer()
        return True

    def claim(self) -> bool:
        """Become the library's instance; False when one is running already (it was told to come forward)."""
        if self.hand_over():
            return False
        QLocalServer.removeServer(self.name)  # a socket left by a crashed instance
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_connection)
        return self.server.listen(self.name)

    def _on_connection(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()  # a child of the server: freed with it
            # The message is a few bytes, already sent when the other side connected: read it here.
            arrived = socket.bytesAvailable() > 0 or socket.waitForReadyRead(CONNECT_MS)
            message = bytes(socket.readAll()) if arrived else b""
            socket.abort()
            if RAISE.strip() in message:
                self.activated.emit()


def bring_forward(window) -> None:
    window.showNormal() if window.isMinimized() else window.show()
    window.raise_()
    window.activateWindow()
