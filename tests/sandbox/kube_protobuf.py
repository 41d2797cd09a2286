"""Decoding of the k8s protobuf envelope (runtime.Unknown) that `kubectl create <kind>` sends, and
the field table of the kinds it covers (PROTO_SCHEMA, also used by kube_conform.py).
"""
from __future__ import annotations

import base64
import json
import struct

from kube_common import now_iso
from kube_errors import ApiError, err_bad_request

PB_SCALARS = {"string", "bytes", "int32", "int64", "bool", "double", "float", "uint32", "uint64",
              "sint32", "sint64", "fixed32", "fixed64"}
PB_INLINE = {"localObjectReference", "volumeSource", "handler", "ephemeralContainerCommon"}
# optional pointer fields whose zero value carries meaning (so a decoded 0/false must be kept)
PB_KEEP_ZERO = {"replicas", "partition", "immutable", "automountServiceAccountToken",
                "terminationGracePeriodSeconds", "revisionHistoryLimit", "progressDeadlineSeconds",
                "runAsUser", "runAsGroup", "fsGroup", "runAsNonRoot", "privileged", "readOnlyRootFilesystem",
                "allowPrivilegeEscalation", "defaultMode", "optional", "enableServiceLinks", "hostUsers",
                "activeDeadlineSeconds", "priority", "mode", "expirationSeconds", "unschedulable",
                "allocateLoadBalancerNodePorts", "setHostnameAsFQDN", "shareProcessNamespace"}
_SCHEMA: dict | None = None
_SCHEMA_BY_JSON: dict = {}


def proto_schema() -> dict:
    global _SCHEMA
    if _SCHEMA is None:
        msgs = {}
        for line in PROTO_SCHEMA.strip().splitlines():
            parts = line.split()
            fields = {}
            for p in parts[1:]:
                num, fname, code = p.split(":", 2)
                fields[int(num)] = (fname, code)
            msgs[parts[0]] = fields
        _SCHEMA = msgs
    return _SCHEMA


def json_fields(msg: str) -> dict:
    """json field name -> type code for a message, with inline (embedded) structs flattened."""
    cached = _SCHEMA_BY_JSON.get(msg)
    if cached is not None:
        return cached
    out = {}
    for _num, (fname, code) in proto_schema().get(msg, {}).items():
        if fname in PB_INLINE and code in proto_schema():
            out.update(json_fields(code))
        else:
            out[fname] = code
    _SCHEMA_BY_JSON[msg] = out
    return out


def _pb_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 70:
            raise ValueError("varint too long")


def pb_fields(buf: bytes):
    i = 0
    while i < len(buf):
        key, i = _pb_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _pb_varint(buf, i)
        elif wt == 1:
            val = buf[i:i + 8]
            i += 8
        elif wt == 2:
            ln, i = _pb_varint(buf, i)
            val = buf[i:i + ln]
            if len(val) != ln:
                raise ValueError("truncated field")
            i += ln
        elif wt == 5:
            val = buf[i:i + 4]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        yield num, wt, val


def _signed(v: int, bits: int) -> int:
    v &= (1 << 64) - 1
    if v >= 1 << 63:
        v -= 1 << 64
    if bits == 32:
        v = ((v + (1 << 31)) % (1 << 32)) - (1 << 31)
    return v


def _pb_scalar(t: str, wt: int, val):
    if t == "string":
        return val.decode("utf-8")
    if t == "bytes":
        return base64.b64encode(val).decode()
    if t == "bool":
        return bool(val)
    if t in ("int32", "int64"):
        return _signed(val, 32 if t == "int32" else 64)
    if t in ("uint32", "uint64"):
        return val
    if t in ("sint32", "sint64"):
        return (val >> 1) ^ -(val & 1)
    if t == "double":
        return struct.unpack("<d", val)[0]
    if t == "float":
        return struct.unpack("<f", val)[0]
    if t in ("fixed32", "fixed64"):
        return int.from_bytes(val, "little")
    raise ValueError(t)


def pb_decode(buf: bytes, msg: str):
    if msg in ("Time", "MicroTime"):
        secs = 0
        for num, _wt, val in pb_fields(buf):
            if num == 1:
                secs = _signed(val, 64)
        return now_iso(secs) if secs else None
    if msg in ("Quantity", "QuantityValue"):
        for num, _wt, val in pb_fields(buf):
            if num == 1:
                return val.decode()
        return "0"
    if msg == "IntOrString":
        typ, iv, sv = 0, 0, ""
        for num, _wt, val in pb_fields(buf):
            if num == 1:
                typ = val
            elif num == 2:
                iv = _signed(val, 32)
            elif num == 3:
                sv = val.decode()
        return sv if typ == 1 else iv
    if msg in ("FieldsV1", "RawExtension"):
        for num, _wt, val in pb_fields(buf):
            if num == 1 and val:
                try:
                    return json.loads(val)
                except ValueError:
                    return None
        return None
    if msg == "Duration":
        for num, _wt, val in pb_fields(buf):
            if num == 1:
                return f"{_signed(val, 64) / 1e9:g}s"
        return "0s"
    schema = proto_schema().get(msg)
    if schema is None:
        return None
    out: dict = {}
    for num, wt, val in pb_fields(buf):
        if num not in schema:
            continue
        fname, code = schema[num]
        if code.startswith("m:"):
            vt = code[2:]
            k, v = "", None
            for n2, wt2, v2 in pb_fields(val):
                if n2 == 1:
                    k = v2.decode()
                elif n2 == 2:
                    v = _pb_scalar(vt, wt2, v2) if vt in PB_SCALARS else pb_decode(v2, vt)
            if v is None:
                v = "" if vt in ("string", "bytes") else v
            out.setdefault(fname, {})[k] = v
        elif code.startswith("*"):
            t = code[1:]
            lst = out.setdefault(fname, [])
            if t in PB_SCALARS and t not in ("string", "bytes") and wt == 2:
                j = 0
                while j < len(val):  # packed encoding
                    x, j = _pb_varint(val, j)
                    lst.append(_pb_scalar(t, 0, x))
            elif t in PB_SCALARS:
                lst.append(_pb_scalar(t, wt, val))
            else:
                item = pb_decode(val, t)
                lst.append({} if item is None else item)
        elif code in PB_SCALARS:
            v = _pb_scalar(code, wt, val)
            if (v == "" or v is False or (type(v) is int and v == 0)) and fname not in PB_KEEP_ZERO:
                continue
            out[fname] = v
        else:
            v = pb_decode(val, code)
            if v is None or (isinstance(v, dict) and not v and code not in (
                    "PodSecurityContext", "SecurityContext", "EmptyDirVolumeSource", "ResourceRequirements")):
                continue
            out[fname] = v
    for inl in PB_INLINE:
        if isinstance(out.get(inl), dict):
            out.update(out.pop(inl))
    for k in [k for k, v in out.items() if v == [] or v == {} and k in ("labels", "annotations")]:
        del out[k]
    return out


def decode_k8s_protobuf(body: bytes) -> dict:
    if not body.startswith(b"k8s\x00"):
        raise err_bad_request("provided protobuf data is missing the 'k8s\\x00' magic prefix")
    api_version = kind = ""
    raw = b""
    try:
        for num, _wt, val in pb_fields(body[4:]):
            if num == 1:
                for n2, _w2, v2 in pb_fields(val):
                    if n2 == 1:
                        api_version = v2.decode()
                    elif n2 == 2:
                        kind = v2.decode()
            elif num == 2:
                raw = val
        if kind not in proto_schema():
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - protobuf decoding of kind "
                           f"{kind!r} is not supported by this emulator; accepted media types include: "
                           f"application/json, application/yaml")
        obj = pb_decode(raw, kind) or {}
    except ApiError:
        raise
    except Exception as exc:  # malformed protobuf
        raise err_bad_request(f"unable to decode protobuf body: {exc}")
    out = {"apiVersion": api_version, "kind": kind}
    out.update(obj)
    return out



# Protobuf field numbers of the kinds whose protobuf bodies we decode (and whose JSON we type-check),
# extracted from k8s.io/api and k8s.io/apimachinery v0.32 generated.proto files.
# Format: Message num:jsonName:type ...   (type: scalar, Message, *repeated, m:map-value-type)
PROTO_SCHEMA = """
AWSElasticBlockStoreVolumeSource 1:volumeID:string 2:fsType:string 3:partition:int32 4:readOnly:bool
Affinity 1:nodeAffinity:NodeAffinity 2:podAffinity:PodAffinity 3:podAntiAffinity:PodAntiAffinity
AppArmorProfile 1:type:string 2:localhostProfile:string
AttachedVolume 1:name:string 2:devicePath:string
AzureDiskVolumeSource 1:diskName:string 2:diskURI:string 3:cachingMode:string 4:fsType:string 5:readOnly:bool 6:kind:string
AzureFileVolumeSource 1:secretName:string 2:shareName:string 3:readOnly:bool
CSIVolumeSource 1:driver:string 2:readOnly:bool 3:fsType:string 4:volumeAttributes:m:string 5:nodePublishSecretRef:LocalObjectReference
Capabilities 1:add:*string 2:drop:*string
CephFSVolumeSource 1:monitors:*string 2:path:string 3:user:string 4:secretFile:string 5:secretRef:LocalObjectReference 6:readOnly:bool
CinderVolumeSource 1:volumeID:string 2:fsType:string 3:readOnly:bool 4:secretRef:LocalObjectReference
ClientIPConfig 1:timeoutSeconds:int32
ClusterTrustBundleProjection 1:name:string 2:signerName:string 3:labelSelector:LabelSelector 4:path:string 5:optional:bool
Condition 1:type:string 2:status:string 3:observedGeneration:int64 4:lastTransitionTime:Time 5:reason:string 6:message:string
ConfigMap 1:metadata:ObjectMeta 2:data:m:string 3:binaryData:m:bytes 4:immutable:bool
ConfigMapEnvSource 1:localObjectReference:LocalObjectReference 2:optional:bool
ConfigMapKeySelector 1:localObjectReference:LocalObjectReference 2:key:string 3:optional:bool
ConfigMapNodeConfigSource 1:namespace:string 2:name:string 3:uid:string 4:resourceVersion:string 5:kubeletConfigKey:string
ConfigMapProjection 1:localObjectReference:LocalObjectReference 2:items:*KeyToPath 4:optional:bool
ConfigMapVolumeSource 1:localObjectReference:LocalObjectReference 2:items:*KeyToPath 3:defaultMode:int32 4:optional:bool
Container 1:name:string 2:image:string 3:command:*string 4:args:*string 5:workingDir:string 6:ports:*ContainerPort 7:env:*EnvVar 8:resources:ResourceRequirements 9:volumeMounts:*VolumeMount 10:livenessProbe:Probe 11:readinessProbe:Probe 12:lifecycle:Lifecycle 13:terminationMessagePath:string 14:imagePullPolicy:string 15:securityContext:SecurityContext 16:stdin:bool 17:stdinOnce:bool 18:tty:bool 19:envFrom:*EnvFromSource 20:terminationMessagePolicy:string 21:volumeDevices:*VolumeDevice 22:startupProbe:Probe 23:resizePolicy:*ContainerResizePolicy 24:restartPolicy:string
ContainerImage 1:names:*string 2:sizeBytes:int64
ContainerPort 1:name:string 2:hostPort:int32 3:containerPort:int32 4:protocol:string 5:hostIP:string
ContainerResizePolicy 1:resourceName:string 2:restartPolicy:string
ContainerState 1:waiting:ContainerStateWaiting 2:running:ContainerStateRunning 3:terminated:ContainerStateTerminated
ContainerStateRunning 1:startedAt:Time
ContainerStateTerminated 1:exitCode:int32 2:signal:int32 3:reason:string 4:message:string 5:startedAt:Time 6:finishedAt:Time 7:containerID:string
ContainerStateWaiting 1:reason:string 2:message:string
ContainerStatus 1:name:string 2:state:ContainerState 3:lastState:ContainerState 4:ready:bool 5:restartCount:int32 6:image:string 7:imageID:string 8:containerID:string 9:started:bool 10:allocatedResources:m:Quantity 11:resources:ResourceRequirements 12:volumeMounts:*VolumeMountStatus 13:user:ContainerUser 14:allocatedResourcesStatus:*ResourceStatus
ContainerUser 1:linux:LinuxContainerUser
DaemonEndpoint 1:Port:int32
Deployment 1:metadata:ObjectMeta 2:spec:DeploymentSpec 3:status:DeploymentStatus
DeploymentCondition 1:type:string 2:status:string 4:reason:string 5:message:string 6:lastUpdateTime:Time 7:lastTransitionTime:Time
DeploymentSpec 1:replicas:int32 2:selector:LabelSelector 3:template:PodTemplateSpec 4:strategy:DeploymentStrategy 5:minReadySeconds:int32 6:revisionHistoryLimit:int32 7:paused:bool 9:progressDeadlineSeconds:int32
DeploymentStatus 1:observedGeneration:int64 2:replicas:int32 3:updatedReplicas:int32 4:availableReplicas:int32 5:unavailableReplicas:int32 6:conditions:*DeploymentCondition 7:readyReplicas:int32 8:collisionCount:int32
DeploymentStrategy 1:type:string 2:rollingUpdate:RollingUpdateDeployment
DownwardAPIProjection 1:items:*DownwardAPIVolumeFile
DownwardAPIVolumeFile 1:path:string 2:fieldRef:ObjectFieldSelector 3:resourceFieldRef:ResourceFieldSelector 4:mode:int32
DownwardAPIVolumeSource 1:items:*DownwardAPIVolumeFile 2:defaultMode:int32
EmptyDirVolumeSource 1:medium:string 2:sizeLimit:Quantity
EnvFromSource 1:prefix:string 2:configMapRef:ConfigMapEnvSource 3:secretRef:SecretEnvSource
EnvVar 1:name:string 2:value:string 3:valueFrom:EnvVarSource
EnvVarSource 1:fieldRef:ObjectFieldSelector 2:resourceFieldRef:ResourceFieldSelector 3:configMapKeyRef:ConfigMapKeySelector 4:secretKeyRef:SecretKeySelector
EphemeralContainer 1:ephemeralContainerCommon:EphemeralContainerCommon 2:targetContainerName:string
EphemeralContainerCommon 1:name:string 2:image:string 3:command:*string 4:args:*string 5:workingDir:string 6:ports:*ContainerPort 7:env:*EnvVar 8:resources:ResourceRequirements 9:volumeMounts:*VolumeMount 10:livenessProbe:Probe 11:readinessProbe:Probe 12:lifecycle:Lifecycle 13:terminationMessagePath:string 14:imagePullPolicy:string 15:securityContext:SecurityContext 16:stdin:bool 17:stdinOnce:bool 18:tty:bool 19:envFrom:*EnvFromSource 20:terminationMessagePolicy:string 21:volumeDevices:*VolumeDevice 22:startupProbe:Probe 23:resizePolicy:*ContainerResizePolicy 24:restartPolicy:string
EphemeralVolumeSource 1:volumeClaimTemplate:PersistentVolumeClaimTemplate
Event 1:metadata:ObjectMeta 2:involvedObject:ObjectReference 3:reason:string 4:message:string 5:source:EventSource 6:firstTimestamp:Time 7:lastTimestamp:Time 8:count:int32 9:type:string 10:eventTime:MicroTime 11:series:EventSeries 12:action:string 13:related:ObjectReference 14:reportingComponent:string 15:reportingInstance:string
EventSeries 1:count:int32 2:lastObservedTime:MicroTime
EventSource 1:component:string 2:host:string
ExecAction 1:command:*string
FCVolumeSource 1:targetWWNs:*string 2:lun:int32 3:fsType:string 4:readOnly:bool 5:wwids:*string
FieldSelectorAttributes 1:rawSelector:string 2:requirements:*FieldSelectorRequirement
FieldSelectorRequirement 1:key:string 2:operator:string 3:values:*string
FieldsV1 1:Raw:bytes
FlexVolumeSource 1:driver:string 2:fsType:string 3:secretRef:LocalObjectReference 4:readOnly:bool 5:options:m:string
FlockerVolumeSource 1:datasetName:string 2:datasetUUID:string
GCEPersistentDiskVolumeSource 1:pdName:string 2:fsType:string 3:partition:int32 4:readOnly:bool
GRPCAction 1:port:int32 2:service:string
GitRepoVolumeSource 1:repository:string 2:revision:string 3:directory:string
GlusterfsVolumeSource 1:endpoints:string 2:path:string 3:readOnly:bool
HTTPGetAction 1:path:string 2:port:IntOrString 3:host:string 4:scheme:string 5:httpHeaders:*HTTPHeader
HTTPHeader 1:name:string 2:value:string
HostAlias 1:ip:string 2:hostnames:*string
HostIP 1:ip:string
HostPathVolumeSource 1:path:string 2:type:string
ISCSIVolumeSource 1:targetPortal:string 2:iqn:string 3:lun:int32 4:iscsiInterface:string 5:fsType:string 6:readOnly:bool 7:portals:*string 8:chapAuthDiscovery:bool 10:secretRef:LocalObjectReference 11:chapAuthSession:bool 12:initiatorName:string
ImageVolumeSource 1:reference:string 2:pullPolicy:string
IntOrString 1:type:int64 2:intVal:int32 3:strVal:string
KeyToPath 1:key:string 2:path:string 3:mode:int32
LabelSelector 1:matchLabels:m:string 2:matchExpressions:*LabelSelectorRequirement
LabelSelectorAttributes 1:rawSelector:string 2:requirements:*LabelSelectorRequirement
LabelSelectorRequirement 1:key:string 2:operator:string 3:values:*string
Lifecycle 1:postStart:LifecycleHandler 2:preStop:LifecycleHandler
LifecycleHandler 1:exec:ExecAction 2:httpGet:HTTPGetAction 3:tcpSocket:TCPSocketAction 4:sleep:SleepAction
LinuxContainerUser 1:uid:int64 2:gid:int64 3:supplementalGroups:*int64
ListMeta 1:selfLink:string 2:resourceVersion:string 3:continue:string 4:remainingItemCount:int64
LoadBalancerIngress 1:ip:string 2:hostname:string 3:ipMode:string 4:ports:*PortStatus
LoadBalancerStatus 1:ingress:*LoadBalancerIngress
LocalObjectReference 1:name:string
ManagedFieldsEntry 1:manager:string 2:operation:string 3:apiVersion:string 4:time:Time 6:fieldsType:string 7:fieldsV1:FieldsV1 8:subresource:string
MicroTime 1:seconds:int64 2:nanos:int32
ModifyVolumeStatus 1:targetVolumeAttributesClassName:string 2:status:string
NFSVolumeSource 1:server:string 2:path:string 3:readOnly:bool
Namespace 1:metadata:ObjectMeta 2:spec:NamespaceSpec 3:status:NamespaceStatus
NamespaceCondition 1:type:string 2:status:string 4:lastTransitionTime:Time 5:reason:string 6:message:string
NamespaceSpec 1:finalizers:*string
NamespaceStatus 1:phase:string 2:conditions:*NamespaceCondition
Node 1:metadata:ObjectMeta 2:spec:NodeSpec 3:status:NodeStatus
NodeAddress 1:type:string 2:address:string
NodeAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:NodeSelector 2:preferredDuringSchedulingIgnoredDuringExecution:*PreferredSchedulingTerm
NodeCondition 1:type:string 2:status:string 3:lastHeartbeatTime:Time 4:lastTransitionTime:Time 5:reason:string 6:message:string
NodeConfigSource 2:configMap:ConfigMapNodeConfigSource
NodeConfigStatus 1:assigned:NodeConfigSource 2:active:NodeConfigSource 3:lastKnownGood:NodeConfigSource 4:error:string
NodeDaemonEndpoints 1:kubeletEndpoint:DaemonEndpoint
NodeFeatures 1:supplementalGroupsPolicy:bool
NodeRuntimeHandler 1:name:string 2:features:NodeRuntimeHandlerFeatures
NodeRuntimeHandlerFeatures 1:recursiveReadOnlyMounts:bool 2:userNamespaces:bool
NodeSelector 1:nodeSelectorTerms:*NodeSelectorTerm
NodeSelectorRequirement 1:key:string 2:operator:string 3:values:*string
NodeSelectorTerm 1:matchExpressions:*NodeSelectorRequirement 2:matchFields:*NodeSelectorRequirement
NodeSpec 1:podCIDR:string 2:externalID:string 3:providerID:string 4:unschedulable:bool 5:taints:*Taint 6:configSource:NodeConfigSource 7:podCIDRs:*string
NodeStatus 1:capacity:m:Quantity 2:allocatable:m:Quantity 3:phase:string 4:conditions:*NodeCondition 5:addresses:*NodeAddress 6:daemonEndpoints:NodeDaemonEndpoints 7:nodeInfo:NodeSystemInfo 8:images:*ContainerImage 9:volumesInUse:*string 10:volumesAttached:*AttachedVolume 11:config:NodeConfigStatus 12:runtimeHandlers:*NodeRuntimeHandler 13:features:NodeFeatures
NodeSystemInfo 1:machineID:string 2:systemUUID:string 3:bootID:string 4:kernelVersion:string 5:osImage:string 6:containerRuntimeVersion:string 7:kubeletVersion:string 8:kubeProxyVersion:string 9:operatingSystem:string 10:architecture:string
NonResourceAttributes 1:path:string 2:verb:string
ObjectFieldSelector 1:apiVersion:string 2:fieldPath:string
ObjectMeta 1:name:string 2:generateName:string 3:namespace:string 4:selfLink:string 5:uid:string 6:resourceVersion:string 7:generation:int64 8:creationTimestamp:Time 9:deletionTimestamp:Time 10:deletionGracePeriodSeconds:int64 11:labels:m:string 12:annotations:m:string 13:ownerReferences:*OwnerReference 14:finalizers:*string 17:managedFields:*ManagedFieldsEntry
ObjectReference 1:kind:string 2:namespace:string 3:name:string 4:uid:string 5:apiVersion:string 6:resourceVersion:string 7:fieldPath:string
OwnerReference 1:kind:string 3:name:string 4:uid:string 5:apiVersion:string 6:controller:bool 7:blockOwnerDeletion:bool
PersistentVolumeClaim 1:metadata:ObjectMeta 2:spec:PersistentVolumeClaimSpec 3:status:PersistentVolumeClaimStatus
PersistentVolumeClaimCondition 1:type:string 2:status:string 3:lastProbeTime:Time 4:lastTransitionTime:Time 5:reason:string 6:message:string
PersistentVolumeClaimSpec 1:accessModes:*string 2:resources:VolumeResourceRequirements 3:volumeName:string 4:selector:LabelSelector 5:storageClassName:string 6:volumeMode:string 7:dataSource:TypedLocalObjectReference 8:dataSourceRef:TypedObjectReference 9:volumeAttributesClassName:string
PersistentVolumeClaimStatus 1:phase:string 2:accessModes:*string 3:capacity:m:Quantity 4:conditions:*PersistentVolumeClaimCondition 5:allocatedResources:m:Quantity 7:allocatedResourceStatuses:m:string 8:currentVolumeAttributesClassName:string 9:modifyVolumeStatus:ModifyVolumeStatus
PersistentVolumeClaimTemplate 1:metadata:ObjectMeta 2:spec:PersistentVolumeClaimSpec
PersistentVolumeClaimVolumeSource 1:claimName:string 2:readOnly:bool
PhotonPersistentDiskVolumeSource 1:pdID:string 2:fsType:string
Pod 1:metadata:ObjectMeta 2:spec:PodSpec 3:status:PodStatus
PodAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:*PodAffinityTerm 2:preferredDuringSchedulingIgnoredDuringExecution:*WeightedPodAffinityTerm
PodAffinityTerm 1:labelSelector:LabelSelector 2:namespaces:*string 3:topologyKey:string 4:namespaceSelector:LabelSelector 5:matchLabelKeys:*string 6:mismatchLabelKeys:*string
PodAntiAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:*PodAffinityTerm 2:preferredDuringSchedulingIgnoredDuringExecution:*WeightedPodAffinityTerm
PodCondition 1:type:string 2:status:string 3:lastProbeTime:Time 4:lastTransitionTime:Time 5:reason:string 6:message:string
PodDNSConfig 1:nameservers:*string 2:searches:*string 3:options:*PodDNSConfigOption
PodDNSConfigOption 1:name:string 2:value:string
PodIP 1:ip:string
PodOS 1:name:string
PodReadinessGate 1:conditionType:string
PodResourceClaim 1:name:string 3:resourceClaimName:string 4:resourceClaimTemplateName:string
PodResourceClaimStatus 1:name:string 2:resourceClaimName:string
PodSchedulingGate 1:name:string
PodSecurityContext 1:seLinuxOptions:SELinuxOptions 2:runAsUser:int64 3:runAsNonRoot:bool 4:supplementalGroups:*int64 5:fsGroup:int64 6:runAsGroup:int64 7:sysctls:*Sysctl 8:windowsOptions:WindowsSecurityContextOptions 9:fsGroupChangePolicy:string 10:seccompProfile:SeccompProfile 11:appArmorProfile:AppArmorProfile 12:supplementalGroupsPolicy:string 13:seLinuxChangePolicy:string
PodSpec 1:volumes:*Volume 2:containers:*Container 3:restartPolicy:string 4:terminationGracePeriodSeconds:int64 5:activeDeadlineSeconds:int64 6:dnsPolicy:string 7:nodeSelector:m:string 8:serviceAccountName:string 9:serviceAccount:string 10:nodeName:string 11:hostNetwork:bool 12:hostPID:bool 13:hostIPC:bool 14:securityContext:PodSecurityContext 15:imagePullSecrets:*LocalObjectReference 16:hostname:string 17:subdomain:string 18:affinity:Affinity 19:schedulerName:string 20:initContainers:*Container 21:automountServiceAccountToken:bool 22:tolerations:*Toleration 23:hostAliases:*HostAlias 24:priorityClassName:string 25:priority:int32 26:dnsConfig:PodDNSConfig 27:shareProcessNamespace:bool 28:readinessGates:*PodReadinessGate 29:runtimeClassName:string 30:enableServiceLinks:bool 31:preemptionPolicy:string 32:overhead:m:Quantity 33:topologySpreadConstraints:*TopologySpreadConstraint 34:ephemeralContainers:*EphemeralContainer 35:setHostnameAsFQDN:bool 36:os:PodOS 37:hostUsers:bool 38:schedulingGates:*PodSchedulingGate 39:resourceClaims:*PodResourceClaim 40:resources:ResourceRequirements
PodStatus 1:phase:string 2:conditions:*PodCondition 3:message:string 4:reason:string 5:hostIP:string 6:podIP:string 7:startTime:Time 8:containerStatuses:*ContainerStatus 9:qosClass:string 10:initContainerStatuses:*ContainerStatus 11:nominatedNodeName:string 12:podIPs:*PodIP 13:ephemeralContainerStatuses:*ContainerStatus 14:resize:string 15:resourceClaimStatuses:*PodResourceClaimStatus 16:hostIPs:*HostIP
PodTemplateSpec 1:metadata:ObjectMeta 2:spec:PodSpec
PortStatus 1:port:int32 2:protocol:string 3:error:string
PortworxVolumeSource 1:volumeID:string 2:fsType:string 3:readOnly:bool
PreferredSchedulingTerm 1:weight:int32 2:preference:NodeSelectorTerm
Probe 1:handler:ProbeHandler 2:initialDelaySeconds:int32 3:timeoutSeconds:int32 4:periodSeconds:int32 5:successThreshold:int32 6:failureThreshold:int32 7:terminationGracePeriodSeconds:int64
ProbeHandler 1:exec:ExecAction 2:httpGet:HTTPGetAction 3:tcpSocket:TCPSocketAction 4:grpc:GRPCAction
ProjectedVolumeSource 1:sources:*VolumeProjection 2:defaultMode:int32
Quantity 1:string:string
QuobyteVolumeSource 1:registry:string 2:volume:string 3:readOnly:bool 4:user:string 5:group:string 6:tenant:string
RBDVolumeSource 1:monitors:*string 2:image:string 3:fsType:string 4:pool:string 5:user:string 6:keyring:string 7:secretRef:LocalObjectReference 8:readOnly:bool
ReplicaSet 1:metadata:ObjectMeta 2:spec:ReplicaSetSpec 3:status:ReplicaSetStatus
ReplicaSetCondition 1:type:string 2:status:string 3:lastTransitionTime:Time 4:reason:string 5:message:string
ReplicaSetSpec 1:replicas:int32 2:selector:LabelSelector 3:template:PodTemplateSpec 4:minReadySeconds:int32
ReplicaSetStatus 1:replicas:int32 2:fullyLabeledReplicas:int32 3:observedGeneration:int64 4:readyReplicas:int32 5:availableReplicas:int32 6:conditions:*ReplicaSetCondition
ResourceAttributes 1:namespace:string 2:verb:string 3:group:string 4:version:string 5:resource:string 6:subresource:string 7:name:string 8:fieldSelector:FieldSelectorAttributes 9:labelSelector:LabelSelectorAttributes
ResourceClaim 1:name:string 2:request:string
ResourceFieldSelector 1:containerName:string 2:resource:string 3:divisor:Quantity
ResourceHealth 1:resourceID:string 2:health:string
ResourceRequirements 1:limits:m:Quantity 2:requests:m:Quantity 3:claims:*ResourceClaim
ResourceStatus 1:name:string 2:resources:*ResourceHealth
RollingUpdateDeployment 1:maxUnavailable:IntOrString 2:maxSurge:IntOrString
RollingUpdateStatefulSetStrategy 1:partition:int32 2:maxUnavailable:IntOrString
SELinuxOptions 1:user:string 2:role:string 3:type:string 4:level:string
ScaleIOVolumeSource 1:gateway:string 2:system:string 3:secretRef:LocalObjectReference 4:sslEnabled:bool 5:protectionDomain:string 6:storagePool:string 7:storageMode:string 8:volumeName:string 9:fsType:string 10:readOnly:bool
SeccompProfile 1:type:string 2:localhostProfile:string
Secret 1:metadata:ObjectMeta 2:data:m:bytes 3:type:string 4:stringData:m:string 5:immutable:bool
SecretEnvSource 1:localObjectReference:LocalObjectReference 2:optional:bool
SecretKeySelector 1:localObjectReference:LocalObjectReference 2:key:string 3:optional:bool
SecretProjection 1:localObjectReference:LocalObjectReference 2:items:*KeyToPath 4:optional:bool
SecretVolumeSource 1:secretName:string 2:items:*KeyToPath 3:defaultMode:int32 4:optional:bool
SecurityContext 1:capabilities:Capabilities 2:privileged:bool 3:seLinuxOptions:SELinuxOptions 4:runAsUser:int64 5:runAsNonRoot:bool 6:readOnlyRootFilesystem:bool 7:allowPrivilegeEscalation:bool 8:runAsGroup:int64 9:procMount:string 10:windowsOptions:WindowsSecurityContextOptions 11:seccompProfile:SeccompProfile 12:appArmorProfile:AppArmorProfile
TokenRequest 1:metadata:ObjectMeta 2:spec:TokenRequestSpec 3:status:TokenRequestStatus
TokenRequestSpec 1:audiences:*string 3:boundObjectRef:BoundObjectReference 4:expirationSeconds:int64
TokenRequestStatus 1:token:string 2:expirationTimestamp:Time
BoundObjectReference 1:kind:string 2:apiVersion:string 3:name:string 4:uid:string
SelfSubjectReview 1:metadata:ObjectMeta 2:status:SelfSubjectReviewStatus
SelfSubjectReviewStatus 1:userInfo:UserInfo
UserInfo 1:username:string 2:uid:string 3:groups:*string
SelfSubjectAccessReview 1:metadata:ObjectMeta 2:spec:SelfSubjectAccessReviewSpec 3:status:SubjectAccessReviewStatus
SelfSubjectAccessReviewSpec 1:resourceAttributes:ResourceAttributes 2:nonResourceAttributes:NonResourceAttributes
Service 1:metadata:ObjectMeta 2:spec:ServiceSpec 3:status:ServiceStatus
ServiceAccount 1:metadata:ObjectMeta 2:secrets:*ObjectReference 3:imagePullSecrets:*LocalObjectReference 4:automountServiceAccountToken:bool
ServiceAccountTokenProjection 1:audience:string 2:expirationSeconds:int64 3:path:string
ServicePort 1:name:string 2:protocol:string 3:port:int32 4:targetPort:IntOrString 5:nodePort:int32 6:appProtocol:string
ServiceSpec 1:ports:*ServicePort 2:selector:m:string 3:clusterIP:string 4:type:string 5:externalIPs:*string 7:sessionAffinity:string 8:loadBalancerIP:string 9:loadBalancerSourceRanges:*string 10:externalName:string 11:externalTrafficPolicy:string 12:healthCheckNodePort:int32 13:publishNotReadyAddresses:bool 14:sessionAffinityConfig:SessionAffinityConfig 17:ipFamilyPolicy:string 18:clusterIPs:*string 19:ipFamilies:*string 20:allocateLoadBalancerNodePorts:bool 21:loadBalancerClass:string 22:internalTrafficPolicy:string 23:trafficDistribution:string
ServiceStatus 1:loadBalancer:LoadBalancerStatus 2:conditions:*Condition
SessionAffinityConfig 1:clientIP:ClientIPConfig
SleepAction 1:seconds:int64
StatefulSet 1:metadata:ObjectMeta 2:spec:StatefulSetSpec 3:status:StatefulSetStatus
StatefulSetCondition 1:type:string 2:status:string 3:lastTransitionTime:Time 4:reason:string 5:message:string
StatefulSetOrdinals 1:start:int32
StatefulSetPersistentVolumeClaimRetentionPolicy 1:whenDeleted:string 2:whenScaled:string
StatefulSetSpec 1:replicas:int32 2:selector:LabelSelector 3:template:PodTemplateSpec 4:volumeClaimTemplates:*PersistentVolumeClaim 5:serviceName:string 6:podManagementPolicy:string 7:updateStrategy:StatefulSetUpdateStrategy 8:revisionHistoryLimit:int32 9:minReadySeconds:int32 10:persistentVolumeClaimRetentionPolicy:StatefulSetPersistentVolumeClaimRetentionPolicy 11:ordinals:StatefulSetOrdinals
StatefulSetStatus 1:observedGeneration:int64 2:replicas:int32 3:readyReplicas:int32 4:currentReplicas:int32 5:updatedReplicas:int32 6:currentRevision:string 7:updateRevision:string 9:collisionCount:int32 10:conditions:*StatefulSetCondition 11:availableReplicas:int32
StatefulSetUpdateStrategy 1:type:string 2:rollingUpdate:RollingUpdateStatefulSetStrategy
Status 1:metadata:ListMeta 2:status:string 3:message:string 4:reason:string 5:details:StatusDetails 6:code:int32
StatusCause 1:reason:string 2:message:string 3:field:string
StatusDetails 1:name:string 2:group:string 3:kind:string 4:causes:*StatusCause 5:retryAfterSeconds:int32 6:uid:string
StorageOSVolumeSource 1:volumeName:string 2:volumeNamespace:string 3:fsType:string 4:readOnly:bool 5:secretRef:LocalObjectReference
SubjectAccessReviewStatus 1:allowed:bool 2:reason:string 3:evaluationError:string 4:denied:bool
Sysctl 1:name:string 2:value:string
TCPSocketAction 1:port:IntOrString 2:host:string
Taint 1:key:string 2:value:string 3:effect:string 4:timeAdded:Time
Time 1:seconds:int64 2:nanos:int32
Toleration 1:key:string 2:operator:string 3:value:string 4:effect:string 5:tolerationSeconds:int64
TopologySpreadConstraint 1:maxSkew:int32 2:topologyKey:string 3:whenUnsatisfiable:string 4:labelSelector:LabelSelector 5:minDomains:int32 6:nodeAffinityPolicy:string 7:nodeTaintsPolicy:string 8:matchLabelKeys:*string
TypeMeta 1:apiVersion:string 2:kind:string
TypedLocalObjectReference 1:apiGroup:string 2:kind:string 3:name:string
TypedObjectReference 1:apiGroup:string 2:kind:string 3:name:string 4:namespace:string
Unknown 1:typeMeta:TypeMeta 2:raw:bytes 3:contentEncoding:string 4:contentType:string
Volume 1:name:string 2:volumeSource:VolumeSource
VolumeDevice 1:name:string 2:devicePath:string
VolumeMount 1:name:string 2:readOnly:bool 3:mountPath:string 4:subPath:string 5:mountPropagation:string 6:subPathExpr:string 7:recursiveReadOnly:string
VolumeMountStatus 1:name:string 2:mountPath:string 3:readOnly:bool 4:recursiveReadOnly:string
VolumeProjection 1:secret:SecretProjection 2:downwardAPI:DownwardAPIProjection 3:configMap:ConfigMapProjection 4:serviceAccountToken:ServiceAccountTokenProjection 5:clusterTrustBundle:ClusterTrustBundleProjection
VolumeResourceRequirements 1:limits:m:Quantity 2:requests:m:Quantity
VolumeSource 1:hostPath:HostPathVolumeSource 2:emptyDir:EmptyDirVolumeSource 3:gcePersistentDisk:GCEPersistentDiskVolumeSource 4:awsElasticBlockStore:AWSElasticBlockStoreVolumeSource 5:gitRepo:GitRepoVolumeSource 6:secret:SecretVolumeSource 7:nfs:NFSVolumeSource 8:iscsi:ISCSIVolumeSource 9:glusterfs:GlusterfsVolumeSource 10:persistentVolumeClaim:PersistentVolumeClaimVolumeSource 11:rbd:RBDVolumeSource 12:flexVolume:FlexVolumeSource 13:cinder:CinderVolumeSource 14:cephfs:CephFSVolumeSource 15:flocker:FlockerVolumeSource 16:downwardAPI:DownwardAPIVolumeSource 17:fc:FCVolumeSource 18:azureFile:AzureFileVolumeSource 19:configMap:ConfigMapVolumeSource 20:vsphereVolume:VsphereVirtualDiskVolumeSource 21:quobyte:QuobyteVolumeSource 22:azureDisk:AzureDiskVolumeSource 23:photonPersistentDisk:PhotonPersistentDiskVolumeSource 24:portworxVolume:PortworxVolumeSource 25:scaleIO:ScaleIOVolumeSource 26:projected:ProjectedVolumeSource 27:storageos:StorageOSVolumeSource 28:csi:CSIVolumeSource 29:ephemeral:EphemeralVolumeSource 30:image:ImageVolumeSource
VsphereVirtualDiskVolumeSource 1:volumePath:string 2:fsType:string 3:storagePolicyName:string 4:storagePolicyID:string
WeightedPodAffinityTerm 1:weight:int32 2:podAffinityTerm:PodAffinityTerm
WindowsSecurityContextOptions 1:gmsaCredentialSpecName:string 2:gmsaCredentialSpec:string 3:runAsUserName:string 4:hostProcess:bool
"""
