# SPDX-License-Identifier: Apache-2.0
"""Native core of the xarch package (pybind11 bindings over the xarch C++ library)."""

import datetime
import os
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    Union,
)

from . import emulators as emulators

__version__: str

def version() -> str:
    """The xarch library version, e.g. "0.1.0" (also xarch.__version__)."""

def abi_version() -> int:
    """The C ABI generation of the library: the N in libxarch.so.N."""

def _run_cli(argv: List[str]) -> int:
    """Runs the xarch command-line tool with ARGV (no program name); its exit code
    (`python3 -m xarch`)."""

class Platform:
    """An os/arch[/variant] platform, as in an OCI image index or `buildx --platform`.

    Immutable and hashable; equality compares every field as stored. Picklable.
    """

    def __init__(
        self,
        os: str,
        architecture: str,
        variant: str = "",
        os_version: str = "",
        os_features: Sequence[str] = [],
    ) -> None:
        """Makes a platform from its fields, stored as given (no normalization)."""
    @staticmethod
    def parse(text: str) -> Platform:
        """Parses one --platform value the way buildx does, normalized ("local" is the host).

        Raises ParseError (a ValueError) quoting the input when it is malformed.
        """
    @staticmethod
    def parse_unnormalized(text: str) -> Platform:
        """Parses a platform as containerd's Parse does, without the final normalization.

        Raises ParseError (a ValueError) when the text is malformed.
        """
    @staticmethod
    def parse_list(text: str) -> List[Platform]:
        """Parses a comma-separated --platform list: order kept, duplicates removed.

        Raises ParseError (a ValueError) naming the bad element.
        """
    @staticmethod
    def host() -> Platform:
        """The platform of this process's host, normalized."""
    def normalized(self) -> Platform:
        """This platform with canonical os, architecture and variant names."""
    @property
    def os(self) -> str:
        """The operating system, e.g. "linux"."""
    @property
    def architecture(self) -> str:
        """The CPU architecture, e.g. "arm64"."""
    @property
    def variant(self) -> str:
        """The architecture variant, e.g. "v7" ("" when none)."""
    @property
    def os_version(self) -> str:
        """The OS version, e.g. "10.0.17763" ("" when none)."""
    @property
    def os_features(self) -> List[str]:
        """The required OS features, as a new list."""
    def to_string(self) -> str:
        """os/arch[/variant] (containerd's Format); also str(platform)."""
    def to_string_all(self) -> str:
        """os[(osversion+feature+...)]/arch[/variant], percent-encoded (containerd's FormatAll)."""
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(
        self,
    ) -> Tuple[Type[Platform], Tuple[str, str, str, str, List[str]]]: ...

class PlatformMatcher:
    """Decides which platforms are acceptable and which of two is preferred.

    Made by only(), only_strict(), ordered(), any(), only_os() or for_host(); no public constructor.
    """

    @staticmethod
    def only(platform: Platform) -> PlatformMatcher:
        """What a host of `platform` runs natively, in order of preference (containerd's Only)."""
    @staticmethod
    def only_strict(platform: Platform) -> PlatformMatcher:
        """Only the platform itself (containerd's OnlyStrict)."""
    @staticmethod
    def ordered(platforms: Sequence[Platform]) -> PlatformMatcher:
        """Any of the listed platforms, preferred in list order (containerd's Ordered)."""
    @staticmethod
    def any(platforms: Sequence[Platform]) -> PlatformMatcher:
        """Any of the listed platforms, with no preference between them (containerd's Any)."""
    @staticmethod
    def only_os(platform: Platform) -> PlatformMatcher:
        """Any architecture of the platform's OS, its own preferred (containerd's OnlyOS)."""
    @staticmethod
    def for_host(host: Platform) -> PlatformMatcher:
        """What containerd's Default() is on a host of `host`."""
    def match(self, platform: Platform) -> bool:
        """True when `platform` is acceptable."""
    def less(self, a: Platform, b: Platform) -> bool:
        """True when `a` is preferred over `b` (a strict weak order)."""
    def best(self, candidates: Sequence[Platform]) -> Optional[int]:
        """The index of the best matching candidate, or None when none matches."""

class ContextEntry:
    """One entry of a scanned build context, as BuildKit's file sync records it. Read-only."""

    @property
    def path(self) -> str:
        """Path relative to the context root, '/'-separated."""
    @property
    def type(self) -> str:
        """"file", "dir", "symlink" or "other" (FIFO, socket, device)."""
    @property
    def mode(self) -> int:
        """st_mode: type bits and permissions."""
    @property
    def uid(self) -> int:
        """Owner user id."""
    @property
    def gid(self) -> int:
        """Owner group id."""
    @property
    def size(self) -> int:
        """Size in bytes of a regular file, else 0."""
    @property
    def mtime_ns(self) -> int:
        """Modification time in nanoseconds since the epoch."""
    @property
    def link_target(self) -> str:
        """A symlink's target as stored (never followed); "" otherwise."""
    @property
    def digest(self) -> Optional[str]:
        """"sha256:<hex>" of a regular file's content; None for other entries."""
    def __eq__(self, other: object) -> bool: ...

class BuildContext:
    """A build context: a directory (or a tar stream of one) and what `docker buildx build`
    sends with it: the Dockerfile, build args, labels, target, named contexts, secrets, SSH.

    scan() lists the entries a build would see (the .dockerignore rules applied,
    <Dockerfile>.dockerignore winning; the Dockerfile and the ignore file always kept) with
    sha256 digests, reusing a stat cache for unchanged files.
    """

    def __init__(
        self,
        path: Union[str, os.PathLike[str]],
        *,
        dockerfile: Optional[Union[str, os.PathLike[str]]] = None,
        dockerfile_text: Optional[str] = None,
        build_args: Optional[Mapping[str, str]] = None,
        labels: Optional[Mapping[str, str]] = None,
        target: Optional[str] = None,
        named_contexts: Optional[Mapping[str, str]] = None,
        secrets: Optional[Sequence[str]] = None,
        ssh: Optional[Sequence[str]] = None,
    ) -> None:
        """A context directory with its settings (see the class docstring for each).

        Raises NotFoundError for a missing directory or Dockerfile, ParseError (a ValueError)
        quoting a malformed setting.
        """
    @staticmethod
    def from_tar(
        source: Union[str, os.PathLike[str], int, Any],
        *,
        dockerfile: Optional[Union[str, os.PathLike[str]]] = None,
        dockerfile_text: Optional[str] = None,
        build_args: Optional[Mapping[str, str]] = None,
        labels: Optional[Mapping[str, str]] = None,
        target: Optional[str] = None,
        named_contexts: Optional[Mapping[str, str]] = None,
        secrets: Optional[Sequence[str]] = None,
        ssh: Optional[Sequence[str]] = None,
    ) -> BuildContext:
        """A context from a tar stream: a path, a file descriptor or an object with fileno().

        Extracted into a private temporary directory removed with the context. Raises
        ParseError for an unreadable archive, an entry outside the context or a device node.
        """
    @property
    def directory(self) -> str:
        """The directory scanned (absolute)."""
    @property
    def is_tar(self) -> bool:
        """Whether the context was extracted from a tar stream."""
    @property
    def dockerfile_path(self) -> Optional[str]:
        """The Dockerfile's path (default <context>/Dockerfile); None when given as text."""
    def dockerfile_text(self) -> str:
        """The Dockerfile's content. Raises NotFoundError when there is none."""
    @property
    def build_args(self) -> Dict[str, str]:
        """{NAME: VALUE} of the build args."""
    @property
    def labels(self) -> Dict[str, str]:
        """{NAME: VALUE} of the labels."""
    @property
    def target(self) -> str:
        """The target stage; "" for the last one."""
    @property
    def named_contexts(self) -> Dict[str, str]:
        """{name: value}, directories made absolute, names as buildx keys them."""
    @property
    def secrets(self) -> Dict[str, Tuple[str, str]]:
        """{id: ("file", path) or ("env", variable)}."""
    @property
    def ssh(self) -> Dict[str, List[str]]:
        """{id: [socket or key path, ...]}."""
    @property
    def ignore_file(self) -> Optional[str]:
        """The ignore file in force, or None."""
    def ignore_patterns(self) -> List[str]:
        """The ignore patterns, plus the exceptions that keep the Dockerfile and ignore file."""
    def scan(
        self,
        *,
        cache_dir: Optional[Union[str, os.PathLike[str]]] = None,
        use_cache: bool = True,
        threads: int = 0,
    ) -> List[ContextEntry]:
        """Walks the context and returns its entries in walk order, files hashed.

        Raises PermissionDeniedError or Error naming an entry that cannot be read.
        """
    def resolve_copy_sources(
        self, sources: Sequence[str], destination: Optional[str] = None
    ) -> List[Tuple[str, List[ContextEntry]]]:
        """Resolves COPY sources against the last scan as BuildKit does.

        Raises NotFoundError ('"/x": not found') for a missing source, ParseError for a source
        outside the context, a bad pattern, or several sources to a non-directory destination.
        """

class Reference:
    """An image reference, registry/repository[:tag][@digest], normalized like `docker pull`.

    Immutable, hashable and picklable; equal references name the same image.
    """

    def __init__(self, text: str, repository: bool = False) -> None:
        """Reference.parse(text), or Reference.parse_repository(text) with repository=True."""
    @staticmethod
    def parse(text: str) -> Reference:
        """Parses a reference: "busybox" -> docker.io/library/busybox:latest.

        Raises ParseError (a ValueError) quoting the text and saying what is wrong.
        """
    @staticmethod
    def parse_repository(text: str) -> Reference:
        """Parses a repository without tag or digest ("busybox" -> docker.io/library/busybox).

        Raises ParseError (a ValueError), also when the text has a tag or digest.
        """
    @property
    def registry(self) -> str:
        """The registry as written in references: "docker.io", "localhost:5000"."""
    @property
    def repository(self) -> str:
        """The repository path in the registry: "library/busybox"."""
    @property
    def tag(self) -> str:
        """The tag, "" when there is none."""
    @property
    def digest(self) -> str:
        """The digest, "sha256:...", "" when there is none."""
    @property
    def name(self) -> str:
        """registry/repository: "docker.io/library/busybox"."""
    @property
    def familiar(self) -> str:
        """Docker's short form: "busybox:latest"."""
    @property
    def familiar_name(self) -> str:
        """The short form without tag and digest: "busybox"."""
    def with_tag(self, tag: str) -> Reference:
        """A copy with the tag replaced. Raises ParseError quoting a bad tag."""
    def with_digest(self, digest: str) -> Reference:
        """A copy with the digest replaced. Raises ParseError quoting a bad digest."""
    def without_tag(self) -> Reference:
        """A copy without the tag."""
    def without_digest(self) -> Reference:
        """A copy without the digest."""
    def to_string(self) -> str:
        """The canonical form name[:tag][@digest] (also str(reference))."""
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> Tuple[Type[Reference], Tuple[str, bool]]: ...

_Bytes = Union[bytes, bytearray, memoryview]
_Path = Union[str, "os.PathLike[str]"]
_ReferenceLike = Union[str, Reference]
_PlatformLike = Union[str, Platform]

class TransferProgress:
    """Bytes moved for one blob or manifest, as the progress callable receives them."""

    @property
    def digest(self) -> str:
        """The content moved, "sha256:..."."""
    @property
    def done(self) -> int:
        """Bytes so far."""
    @property
    def total(self) -> Optional[int]:
        """The size, or None when unknown."""

class Descriptor:
    """What an OCI document says about a piece of content. Read-only; compares by value."""

    def __init__(
        self,
        media_type: str,
        digest: str,
        size: int,
        *,
        urls: Sequence[str] = ...,
        annotations: Mapping[str, str] = ...,
        platform: Optional[_PlatformLike] = None,
        artifact_type: str = "",
        data: Optional[_Bytes] = None,
    ) -> None:
        """Makes a descriptor; ParseError for a malformed digest or platform."""
    @staticmethod
    def of(media_type: str, data: _Bytes) -> Descriptor:
        """The descriptor of `data`: its sha256 digest and size; not embedded."""
    @staticmethod
    def from_json(json: Union[str, _Bytes]) -> Descriptor:
        """Parses descriptor JSON; ParseError says which field is wrong."""
    def to_json(self) -> str:
        """Compact JSON in image-spec's field order (deterministic)."""
    @property
    def media_type(self) -> str: ...
    @property
    def digest(self) -> str:
        """"sha256:..."."""
    @property
    def size(self) -> int: ...
    @property
    def urls(self) -> List[str]: ...
    @property
    def annotations(self) -> Dict[str, str]: ...
    @property
    def platform(self) -> Optional[Platform]:
        """In an index, the platform of the manifest."""
    @property
    def artifact_type(self) -> str: ...
    @property
    def data(self) -> Optional[bytes]:
        """The embedded content, or None."""
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...

class RawContent:
    """A document exactly as fetched or to be pushed: bytes, media type, digest over the bytes."""

    def __init__(self, data: _Bytes, media_type: str) -> None:
        """Content of `media_type` with the sha256 digest of `data`."""
    @property
    def bytes(self) -> bytes:
        """The exact bytes."""
    @property
    def media_type(self) -> str: ...
    @property
    def digest(self) -> str:
        """The digest of the bytes, "sha256:..."."""
    def descriptor(self) -> Descriptor:
        """Its Descriptor: media type, digest, size."""
    def json(self) -> Any:
        """The bytes parsed as JSON."""
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...

class InspectResult:
    """What Registry.inspect() found: the document as served and its parsed form."""

    @property
    def descriptor(self) -> Descriptor: ...
    @property
    def raw(self) -> RawContent:
        """The document exactly as served."""
    @property
    def index(self) -> Optional[Dict[str, Any]]:
        """When it is an index, the index as OCI JSON (a dict)."""
    @property
    def manifest(self) -> Optional[Dict[str, Any]]:
        """When it is an image manifest, the manifest as OCI JSON (a dict)."""
    @property
    def config(self) -> Optional[Dict[str, Any]]:
        """When it is an image manifest, its image config (a dict)."""
    @property
    def platform(self) -> Optional[Platform]:
        """The image's platform (from its config), or None for an index."""

class Registry:
    """A client for OCI distribution registries; a context manager (close() on exit).

    Network work releases the GIL; one Registry may be used from several threads. The
    credentials and progress callables run with the GIL held, maybe on a library thread; an
    exception they raise stops the operation and is re-raised to the caller. Errors are
    RegistryError, AuthError, NotFoundError, DigestMismatchError, NetworkError,
    CancelledError (all xarch.Error).
    """

    def __init__(
        self,
        *,
        insecure_registries: Sequence[str] = ...,
        ca_bundle: Optional[str] = None,
        certs_dir: Optional[str] = None,
        jobs: int = 4,
        retry_attempts: int = 5,
        user_agent: Optional[str] = None,
        credentials: Optional[Callable[[str], Optional[Tuple[str, str]]]] = None,
        anonymous: bool = False,
        progress: Optional[Callable[[TransferProgress], Optional[bool]]] = None,
        chunk_threshold: Optional[int] = None,
        chunk_size: Optional[int] = None,
    ) -> None:
        """Makes a client. Without credentials and anonymous, docker's config.json is used;
        credentials(registry) returns (username, secret) or None ("<token>" as username makes
        the secret an identity token). progress returning False cancels (CancelledError)."""
    def close(self) -> None:
        """Releases connections and callables; later calls raise ValueError."""
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> Registry: ...
    def __exit__(self, exc_type: object, exc_value: object, traceback: object) -> bool: ...
    def resolve(self, reference: _ReferenceLike) -> Descriptor:
        """The descriptor of the manifest or index the reference names."""
    def fetch_manifest(self, reference: _ReferenceLike) -> RawContent:
        """The manifest or index exactly as served, its digest verified."""
    def resolve_platform(self, reference: _ReferenceLike, platform: _PlatformLike) -> Descriptor:
        """The manifest for `platform`; NotFoundError lists the platforms the index has."""
    def push_manifest(
        self,
        reference: _ReferenceLike,
        content: Union[RawContent, _Bytes],
        media_type: Optional[str] = None,
    ) -> Descriptor:
        """Stores a manifest or index (RawContent, or bytes with media_type)."""
    def delete_manifest(self, reference: _ReferenceLike) -> None:
        """Deletes the manifest (a tag is resolved to its digest first)."""
    def fetch_blob(
        self, repository: _ReferenceLike, descriptor: Descriptor, path: Optional[_Path] = None
    ) -> Optional[bytes]:
        """The blob as bytes, or written to `path` (temporary file + rename) and None."""
    def blob_exists(self, repository: _ReferenceLike, digest: str) -> bool: ...
    def push_blob(
        self,
        repository: _ReferenceLike,
        source: Union[_Bytes, _Path],
        descriptor: Optional[Descriptor] = None,
        media_type: str = "application/octet-stream",
    ) -> Descriptor:
        """Uploads bytes or a file unless the registry has it; returns its descriptor."""
    def mount_blob(self, repository: _ReferenceLike, digest: str, from_: _ReferenceLike) -> bool:
        """Mounts a blob from another repository of the same registry; False when it did not."""
    def list_tags(self, repository: _ReferenceLike, page_size: int = 0) -> List[str]: ...
    def catalog(self, registry: str, page_size: int = 0) -> List[str]: ...
    def referrers(self, repository: _ReferenceLike, digest: str) -> List[Descriptor]: ...
    def push(self, layout: _Path, root: str, destination: _ReferenceLike) -> Descriptor:
        """Pushes `root` (a name in index.json or a digest) of an OCI layout directory."""
    def pull(
        self,
        reference: _ReferenceLike,
        layout: _Path,
        platforms: Union[None, str, Sequence[_PlatformLike]] = None,
    ) -> Descriptor:
        """Stores the image or index in an OCI layout directory (created when missing)."""
    def copy(
        self,
        source: _ReferenceLike,
        destination: _ReferenceLike,
        platforms: Union[None, str, Sequence[_PlatformLike]] = None,
    ) -> Descriptor:
        """Copies registry to registry; with platforms, only those manifests, in a new index."""
    def create_index(
        self,
        destination: _ReferenceLike,
        sources: Sequence[_ReferenceLike],
        annotations: Mapping[str, str] = ...,
    ) -> Descriptor:
        """Pushes a new index of the sources' manifests (like `buildx imagetools create`)."""
    def inspect(self, reference: _ReferenceLike) -> InspectResult:
        """The document the reference names, raw and parsed."""

class _ProgressEventKind:
    """What a ProgressEvent reports: the enum ProgressEvent.Kind."""

    VERTEX_STARTED: _ProgressEventKind
    VERTEX_CACHED: _ProgressEventKind
    VERTEX_COMPLETED: _ProgressEventKind
    VERTEX_ERROR: _ProgressEventKind
    STATUS: _ProgressEventKind
    LOG: _ProgressEventKind
    WARNING: _ProgressEventKind
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...
    def __int__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class ProgressEvent:
    """One build progress event, shaped like BuildKit's SolveStatus: what the progress callable
    of Builder.build() receives. Several events share one `vertex` (a step). Read-only."""

    Kind: Type[_ProgressEventKind]
    @property
    def kind(self) -> _ProgressEventKind:
        """What happened."""
    @property
    def vertex(self) -> str:
        """Stable id of the step: its cache key ("sha256:...") or a fixed name."""
    @property
    def name(self) -> str:
        """What buildx prints for the step: "[linux/arm64 2/3] COPY . /app"."""
    @property
    def time_ns(self) -> int:
        """When it happened, in nanoseconds since the Unix epoch."""
    @property
    def time(self) -> datetime.datetime:
        """When it happened, as an aware datetime in UTC."""
    @property
    def id(self) -> str:
        """STATUS: what is moved ("sha256:3f2a...", "pushing layers")."""
    @property
    def message(self) -> str:
        """LOG, VERTEX_ERROR, WARNING: the text."""
    @property
    def current(self) -> int:
        """STATUS: bytes (or items) done."""
    @property
    def total(self) -> int:
        """STATUS: the total; 0 when unknown."""
    @property
    def completed(self) -> bool:
        """STATUS: whether this item is finished."""

class PlatformImage:
    """What a build made for one platform; unpacks as (platform, manifest, config)."""

    @property
    def platform(self) -> Platform: ...
    @property
    def manifest(self) -> Descriptor:
        """The descriptor of its manifest."""
    @property
    def config(self) -> str:
        """The digest of its image config, "sha256:..."."""
    def __iter__(self) -> Iterator[Union[Platform, Descriptor, str]]: ...

class BuildResult:
    """What Builder.build() made."""

    @property
    def descriptor(self) -> Descriptor:
        """The index over all platforms (an image manifest's when one platform was built and an
        output asked for a single manifest)."""
    @property
    def digest(self) -> str:
        """Its digest, "sha256:..."."""
    @property
    def images(self) -> List[PlatformImage]:
        """One per platform built."""
    @property
    def metadata(self) -> Dict[str, Any]:
        """What buildx writes with --metadata-file, as a dict."""
    @property
    def warnings(self) -> List[str]: ...

class PruneResult:
    """What Builder.prune() removed."""

    @property
    def freed_bytes(self) -> int: ...
    @property
    def removed_entries(self) -> int: ...

class Builder:
    """Runs `docker buildx build` in this process (the embedded driver), with a persistent cache.

    Registries are reached as xarch.Registry reaches them, with the same keyword options
    (`transfer_jobs` is Registry's `jobs`). build() releases the GIL and may run on several
    threads at once; Ctrl-C cancels it (KeyboardInterrupt). The progress callable runs with the
    GIL held, maybe on a library thread; an exception it raises cancels the build and is
    re-raised. cancel() may be called from any thread, also from the progress callable.
    A context manager: leaving the `with` block calls close().
    """

    def __init__(
        self,
        cache_dir: Optional[_Path] = None,
        jobs: int = 0,
        *,
        insecure_registries: Sequence[str] = ...,
        ca_bundle: Optional[str] = None,
        certs_dir: Optional[str] = None,
        transfer_jobs: int = 4,
        retry_attempts: int = 5,
        user_agent: Optional[str] = None,
        credentials: Optional[Callable[[str], Optional[Tuple[str, str]]]] = None,
        anonymous: bool = False,
        chunk_threshold: Optional[int] = None,
        chunk_size: Optional[int] = None,
        builder: Optional[str] = None,
    ) -> None:
        """cache_dir: default $XDG_CACHE_HOME/xarch, else ~/.cache/xarch; jobs: steps at once
        (0: one per core); builder: a builder of `xarch create` ("" the current one), None to
        build in this process. The other options are xarch.Registry's."""
    def build(
        self,
        context: BuildContext,
        *,
        platforms: Union[None, str, Sequence[_PlatformLike]] = None,
        tags: Sequence[str] = ...,
        outputs: Sequence[str] = ...,
        push: bool = False,
        load: bool = False,
        annotations: Sequence[str] = ...,
        no_cache: bool = False,
        pull: bool = False,
        cache_from: Sequence[str] = ...,
        cache_to: Sequence[str] = ...,
        source_date_epoch: Optional[int] = None,
        metadata_file: Optional[_Path] = None,
        iid_file: Optional[_Path] = None,
        docker_host: Optional[str] = None,
        allow: Sequence[str] = ...,
        network: str = "default",
        progress: Optional[Callable[[ProgressEvent], object]] = None,
    ) -> BuildResult:
        """Builds `context` for `platforms` into `outputs` (buildx --output strings; push/load
        add type=registry/type=docker). network: "default", "none" or "host" (RUN steps
        without their own --network). Raises ParseError quoting a malformed option,
        BuildError for a RUN that exits non-zero or is killed, NotFoundError, RegistryError and
        its kin, CancelledError after cancel(); re-raises KeyboardInterrupt and the progress
        callable's exception."""
    def cancel(self) -> None:
        """Stops every build in progress on this Builder (they raise CancelledError)."""
    def prune(self, keep_storage: Optional[int] = None) -> PruneResult:
        """Removes cached content, least recently used first, down to `keep_storage` bytes
        (None: everything)."""
    @property
    def cache_dir(self) -> str:
        """The cache directory in use (absolute)."""
    def close(self) -> None:
        """Cancels the builds in progress and releases the cache; later calls raise
        ValueError."""
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> Builder: ...
    def __exit__(self, exc_type: object, exc_value: object, traceback: object) -> None: ...

class NodeStatus:
    """What a node can do now, as `xarch ls` shows it."""

    @property
    def status(self) -> str:
        """"running" or "error"."""
    @property
    def error(self) -> str:
        """Why it is not running ("" when it is)."""
    @property
    def version(self) -> str:
        """The engine's version, or xarch's for an embedded node."""
    @property
    def native(self) -> List[Platform]:
        """Declared platforms first, then what it runs without emulation."""
    @property
    def emulated(self) -> List[Platform]:
        """What it runs through QEMU ([] for a remote engine)."""
    @property
    def running(self) -> bool: ...

class NodeSpec:
    """One node of a builder, as stored."""

    @property
    def name(self) -> str: ...
    @property
    def driver(self) -> str:
        """"docker" or "embedded"."""
    @property
    def endpoint(self) -> str:
        """A docker node's engine ("" the environment's); "" for an embedded node."""
    @property
    def platforms(self) -> List[Platform]:
        """The platforms declared with --platform at create."""
    def inspect(self) -> NodeStatus:
        """Asks the node what it can do now; an unreachable engine is a status, not an
        exception."""

class BuilderSpec:
    """A builder as stored: its name and nodes."""

    @property
    def name(self) -> str: ...
    @property
    def nodes(self) -> List[NodeSpec]: ...
    @property
    def driver(self) -> str:
        """Its first node's driver."""

class BuilderStore:
    """The builders `xarch create` made, in builders.json ($XDG_CONFIG_HOME/xarch, else
    ~/.config/xarch); "default" always exists. Builder(builder=NAME) builds on one."""

    def __init__(self, dir: Optional[_Path] = None) -> None: ...
    @property
    def file(self) -> str:
        """The path of builders.json."""
    def list(self) -> List[BuilderSpec]:
        """Every builder: "default" first, then the stored ones by name."""
    def get(self, name: str) -> BuilderSpec:
        """The builder named `name`; NotFoundError listing those that exist."""
    @property
    def current_name(self) -> str:
        """The builder `use` chose ("default" until then)."""
    def current(self) -> BuilderSpec: ...
    def create(
        self,
        *,
        name: str = "",
        driver: str = "docker",
        endpoint: str = "",
        platforms: Union[None, str, Sequence[_PlatformLike]] = None,
        node_name: str = "",
        append: bool = False,
        use: bool = False,
    ) -> BuilderSpec:
        """`xarch create`: a builder with one node, or one more node (append=True)."""
    def remove_node(self, builder: str, node: str) -> BuilderSpec:
        """`xarch create --leave --node`; its last node removes the builder."""
    def use(self, name: str) -> None:
        """`xarch use`."""
    def remove(self, name: str) -> None:
        """`xarch rm`; ParseError for "default"."""
