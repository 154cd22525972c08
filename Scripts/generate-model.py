#!/usr/bin/env python3
"""Generates Sources/OrcaKit/OrcaAPI/Model/<Group>.generated.swift (Meta, Pod, Node, Workloads, Service,
Cluster): the typed views of the built-in kinds, one file per group. Each view's properties read and write its JSON tree (see ObjectView.swift).

Field codes: s String, i Int, b Bool, t Timestamp, q Quantity, ios IntOrString; [X] a list,
{X} a map from string; a capitalised name is a nested view, with ? when optional.
Run from the package root: python3 Scripts/generate-model.py
"""

VIEWS = [
    "Meta",
    ("ObjectMeta", None, "Standard object metadata (`metadata`).", [
        ("name", "s"), ("generateName", "s"), ("namespace", "s"), ("uid", "s"), ("resourceVersion", "s"),
        ("generation", "i"), ("creationTimestamp", "t"), ("deletionTimestamp", "t"),
        ("deletionGracePeriodSeconds", "i"), ("labels", "{s}"), ("annotations", "{s}"),
        ("ownerReferences", "[OwnerReference]"), ("finalizers", "[s]")]),
    ("ObjectReference", None, "A reference to an object (`targetRef`, `involvedObject`).", [
        ("apiVersion", "s"), ("kind", "s"), ("namespace", "s"), ("name", "s"), ("uid", "s"),
        ("resourceVersion", "s"), ("fieldPath", "s")]),
    ("LabelSelectorSpec", None, "A label selector as written in a spec (`matchLabels`, `matchExpressions`); `LabelSelector(json:)` evaluates it.", [
        ("matchLabels", "{s}"), ("matchExpressions", "[LabelSelectorRequirementSpec]")]),
    ("LabelSelectorRequirementSpec", None, "One `matchExpressions` entry.", [
        ("key", "s"), ("operator", "s"), ("values", "[s]")]),
    ("PodTemplateSpec", None, "A pod template (`spec.template`).", [
        ("metadata", "ObjectMeta"), ("spec", "PodSpec")]),

    # Pods
    "Pod",
    ("Pod", ("v1", "Pod"), "A pod.", [("spec", "PodSpec"), ("status", "PodStatus")]),
    ("PodSpec", None, "A pod's spec.", [
        ("containers", "[Container]"), ("initContainers", "[Container]"), ("restartPolicy", "s"),
        ("nodeName", "s"), ("nodeSelector", "{s}"), ("affinity", "Affinity?"), ("tolerations", "[Toleration]"),
        ("terminationGracePeriodSeconds", "i"), ("activeDeadlineSeconds", "i"), ("readinessGates", "[PodReadinessGate]"),
        ("hostname", "s"), ("subdomain", "s"), ("schedulerName", "s"), ("priority", "i"),
        ("priorityClassName", "s"), ("serviceAccountName", "s"), ("dnsPolicy", "s"), ("hostNetwork", "b")]),
    ("Container", None, "A container or init container.", [
        ("name", "s"), ("image", "s"), ("imagePullPolicy", "s"), ("command", "[s]"), ("args", "[s]"),
        ("env", "[EnvVar]"), ("ports", "[ContainerPort]"), ("resources", "ResourceRequirements"),
        ("readinessProbe", "Probe?"), ("livenessProbe", "Probe?"), ("startupProbe", "Probe?"),
        ("restartPolicy", "s")]),
    ("EnvVar", None, "An environment variable.", [("name", "s"), ("value", "s")]),
    ("ContainerPort", None, "A container port.", [
        ("name", "s"), ("containerPort", "i"), ("protocol", "s"), ("hostPort", "i")]),
    ("ResourceRequirements", None, "Requests and limits.", [("requests", "{q}"), ("limits", "{q}")]),
    ("Probe", None, "A readiness, liveness or startup probe (its handler is kept as written).", [
        ("initialDelaySeconds", "i"), ("periodSeconds", "i"), ("timeoutSeconds", "i"),
        ("successThreshold", "i"), ("failureThreshold", "i")]),
    ("Affinity", None, "Scheduling affinity (node affinity is modelled; pod (anti-)affinity is kept as written).", [
        ("nodeAffinity", "NodeAffinity?")]),
    ("NodeAffinity", None, "Node affinity.", [
        ("requiredDuringSchedulingIgnoredDuringExecution", "NodeSelector?")]),
    ("NodeSelector", None, "Required node affinity: any term may match.", [("nodeSelectorTerms", "[NodeSelectorTerm]")]),
    ("NodeSelectorTerm", None, "One term: every requirement must match.", [
        ("matchExpressions", "[NodeSelectorRequirement]"), ("matchFields", "[NodeSelectorRequirement]")]),
    ("NodeSelectorRequirement", None, "`key operator values` (In, NotIn, Exists, DoesNotExist, Gt, Lt).", [
        ("key", "s"), ("operator", "s"), ("values", "[s]")]),
    ("Toleration", None, "A toleration.", [
        ("key", "s"), ("operator", "s"), ("value", "s"), ("effect", "s"), ("tolerationSeconds", "i")]),
    ("PodReadinessGate", None, "A readiness gate.", [("conditionType", "s")]),
    ("PodStatus", None, "A pod's status.", [
        ("phase", "s"), ("conditions", "[Condition]"), ("containerStatuses", "[ContainerStatus]"),
        ("initContainerStatuses", "[ContainerStatus]"), ("podIP", "s"), ("podIPs", "[PodIP]"), ("hostIP", "s"),
        ("hostIPs", "[PodIP]"), ("startTime", "t"), ("reason", "s"), ("message", "s"), ("qosClass", "s"),
        ("nominatedNodeName", "s")]),
    ("PodIP", None, "An IP address of a pod or host.", [("ip", "s")]),
    ("ContainerStatus", None, "A container's status.", [
        ("name", "s"), ("state", "ContainerState"), ("lastState", "ContainerState"), ("ready", "b"),
        ("started", "b"), ("restartCount", "i"), ("image", "s"), ("imageID", "s"), ("containerID", "s")]),
    ("ContainerState", None, "At most one of waiting, running, terminated.", [
        ("waiting", "ContainerStateWaiting?"), ("running", "ContainerStateRunning?"),
        ("terminated", "ContainerStateTerminated?")]),
    ("ContainerStateWaiting", None, "A waiting container.", [("reason", "s"), ("message", "s")]),
    ("ContainerStateRunning", None, "A running container.", [("startedAt", "t")]),
    ("ContainerStateTerminated", None, "A terminated container.", [
        ("exitCode", "i"), ("signal", "i"), ("reason", "s"), ("message", "s"), ("startedAt", "t"),
        ("finishedAt", "t"), ("containerID", "s")]),

    # Nodes and leases
    "Node",
    ("Node", ("v1", "Node"), "A node.", [("spec", "NodeSpec"), ("status", "NodeStatus")]),
    ("NodeSpec", None, "A node's spec.", [
        ("unschedulable", "b"), ("taints", "[Taint]"), ("podCIDR", "s"), ("podCIDRs", "[s]"), ("providerID", "s")]),
    ("Taint", None, "A taint.", [("key", "s"), ("value", "s"), ("effect", "s"), ("timeAdded", "t")]),
    ("NodeStatus", None, "A node's status.", [
        ("capacity", "{q}"), ("allocatable", "{q}"), ("conditions", "[Condition]"), ("addresses", "[NodeAddress]"),
        ("nodeInfo", "NodeSystemInfo"), ("phase", "s")]),
    ("NodeAddress", None, "A node address.", [("type", "s"), ("address", "s")]),
    ("NodeSystemInfo", None, "Versions reported by the node.", [
        ("kubeletVersion", "s"), ("containerRuntimeVersion", "s"), ("operatingSystem", "s"), ("architecture", "s")]),
    ("Lease", ("coordination.k8s.io/v1", "Lease"), "A lease (node heartbeats live in `kube-node-lease`).", [
        ("spec", "LeaseSpec")]),
    ("LeaseSpec", None, "A lease's spec.", [
        ("holderIdentity", "s"), ("leaseDurationSeconds", "i"), ("acquireTime", "t"), ("renewTime", "t"),
        ("leaseTransitions", "i")]),

    # Workloads
    "Workloads",
    ("ReplicaSet", ("apps/v1", "ReplicaSet"), "A ReplicaSet.", [("spec", "ReplicaSetSpec"), ("status", "ReplicaSetStatus")]),
    ("ReplicaSetSpec", None, "A ReplicaSet's spec.", [
        ("replicas", "i"), ("minReadySeconds", "i"), ("selector", "LabelSelectorSpec"), ("template", "PodTemplateSpec")]),
    ("ReplicaSetStatus", None, "A ReplicaSet's status.", [
        ("replicas", "i"), ("fullyLabeledReplicas", "i"), ("readyReplicas", "i"), ("availableReplicas", "i"),
        ("observedGeneration", "i"), ("conditions", "[Condition]")]),
    ("Deployment", ("apps/v1", "Deployment"), "A Deployment.", [("spec", "DeploymentSpec"), ("status", "DeploymentStatus")]),
    ("DeploymentSpec", None, "A Deployment's spec.", [
        ("replicas", "i"), ("selector", "LabelSelectorSpec"), ("template", "PodTemplateSpec"),
        ("strategy", "DeploymentStrategy"), ("minReadySeconds", "i"), ("revisionHistoryLimit", "i"), ("paused", "b"),
        ("progressDeadlineSeconds", "i")]),
    ("DeploymentStrategy", None, "`RollingUpdate` (with its limits) or `Recreate`.", [
        ("type", "s"), ("rollingUpdate", "RollingUpdateDeployment?")]),
    ("RollingUpdateDeployment", None, "Rolling update limits of a Deployment.", [
        ("maxUnavailable", "ios"), ("maxSurge", "ios")]),
    ("DeploymentStatus", None, "A Deployment's status.", [
        ("observedGeneration", "i"), ("replicas", "i"), ("updatedReplicas", "i"), ("readyReplicas", "i"),
        ("availableReplicas", "i"), ("unavailableReplicas", "i"), ("conditions", "[Condition]"), ("collisionCount", "i")]),
    ("StatefulSet", ("apps/v1", "StatefulSet"), "A StatefulSet.", [("spec", "StatefulSetSpec"), ("status", "StatefulSetStatus")]),
    ("StatefulSetSpec", None, "A StatefulSet's spec (volumeClaimTemplates and persistentVolumeClaimRetentionPolicy are kept as written; read them from `raw`).", [
        ("replicas", "i"), ("selector", "LabelSelectorSpec"), ("template", "PodTemplateSpec"), ("serviceName", "s"),
        ("podManagementPolicy", "s"), ("updateStrategy", "StatefulSetUpdateStrategy"), ("revisionHistoryLimit", "i"),
        ("minReadySeconds", "i"), ("ordinals", "StatefulSetOrdinals?")]),
    ("StatefulSetUpdateStrategy", None, "`RollingUpdate` (with a partition) or `OnDelete`.", [
        ("type", "s"), ("rollingUpdate", "RollingUpdateStatefulSetStrategy?")]),
    ("RollingUpdateStatefulSetStrategy", None, "A StatefulSet's rolling update: pods below `partition` keep the current revision.", [
        ("partition", "i"), ("maxUnavailable", "ios")]),
    ("StatefulSetOrdinals", None, "The ordinal of a StatefulSet's first pod.", [("start", "i")]),
    ("StatefulSetStatus", None, "A StatefulSet's status.", [
        ("observedGeneration", "i"), ("replicas", "i"), ("readyReplicas", "i"), ("currentReplicas", "i"), ("updatedReplicas", "i"),
        ("currentRevision", "s"), ("updateRevision", "s"), ("collisionCount", "i"), ("conditions", "[Condition]"),
        ("availableReplicas", "i")]),
    ("CronJob", ("batch/v1", "CronJob"), "A CronJob.", [("spec", "CronJobSpec"), ("status", "CronJobStatus")]),
    ("CronJobSpec", None, "A CronJob's spec.", [
        ("schedule", "s"), ("timeZone", "s"), ("startingDeadlineSeconds", "i"), ("concurrencyPolicy", "s"), ("suspend", "b"),
        ("jobTemplate", "JobTemplateSpec"), ("successfulJobsHistoryLimit", "i"), ("failedJobsHistoryLimit", "i")]),
    ("JobTemplateSpec", None, "The Job a CronJob makes (`spec.jobTemplate`).", [("metadata", "ObjectMeta"), ("spec", "JobSpec")]),
    ("CronJobStatus", None, "A CronJob's status.", [
        ("active", "[ObjectReference]"), ("lastScheduleTime", "t"), ("lastSuccessfulTime", "t")]),
    ("Job", ("batch/v1", "Job"), "A Job.", [("spec", "JobSpec"), ("status", "JobStatus")]),
    ("JobSpec", None, "A Job's spec (podFailurePolicy and successPolicy are kept as written; read them from `raw`).", [
        ("parallelism", "i"), ("completions", "i"), ("activeDeadlineSeconds", "i"), ("backoffLimit", "i"),
        ("backoffLimitPerIndex", "i"), ("maxFailedIndexes", "i"), ("completionMode", "s"), ("suspend", "b"),
        ("selector", "LabelSelectorSpec"), ("manualSelector", "b"), ("template", "PodTemplateSpec"),
        ("ttlSecondsAfterFinished", "i"), ("podReplacementPolicy", "s")]),
    ("JobStatus", None, "A Job's status.", [
        ("conditions", "[Condition]"), ("startTime", "t"), ("completionTime", "t"), ("active", "i"),
        ("succeeded", "i"), ("failed", "i"), ("ready", "i"), ("terminating", "i"), ("completedIndexes", "s"),
        ("failedIndexes", "s"), ("uncountedTerminatedPods", "UncountedTerminatedPods?")]),
    ("UncountedTerminatedPods", None, "UIDs of finished pods not yet counted in the status.", [
        ("succeeded", "[s]"), ("failed", "[s]")]),
    ("DaemonSet", ("apps/v1", "DaemonSet"), "A DaemonSet.", [("spec", "DaemonSetSpec"), ("status", "DaemonSetStatus")]),
    ("DaemonSetSpec", None, "A DaemonSet's spec.", [
        ("selector", "LabelSelectorSpec"), ("template", "PodTemplateSpec"), ("updateStrategy", "DaemonSetUpdateStrategy"),
        ("minReadySeconds", "i"), ("revisionHistoryLimit", "i")]),
    ("DaemonSetUpdateStrategy", None, "`RollingUpdate` or `OnDelete`.", [
        ("type", "s"), ("rollingUpdate", "RollingUpdateDaemonSet?")]),
    ("RollingUpdateDaemonSet", None, "Rolling update limits.", [("maxUnavailable", "ios"), ("maxSurge", "ios")]),
    ("DaemonSetStatus", None, "A DaemonSet's status.", [
        ("currentNumberScheduled", "i"), ("numberMisscheduled", "i"), ("desiredNumberScheduled", "i"),
        ("numberReady", "i"), ("observedGeneration", "i"), ("updatedNumberScheduled", "i"), ("numberAvailable", "i"),
        ("numberUnavailable", "i"), ("collisionCount", "i"), ("conditions", "[Condition]")]),
    ("ControllerRevision", ("apps/v1", "ControllerRevision"), "A stored revision of a DaemonSet's template (`data` is kept as written).", [
        ("revision", "i")]),

    # Services
    "Service",
    ("Service", ("v1", "Service"), "A Service.", [("spec", "ServiceSpec")]),
    ("ServiceSpec", None, "A Service's spec.", [
        ("type", "s"), ("selector", "{s}"), ("ports", "[ServicePort]"), ("clusterIP", "s"), ("clusterIPs", "[s]"),
        ("externalName", "s"), ("publishNotReadyAddresses", "b"), ("sessionAffinity", "s")]),
    ("ServicePort", None, "A Service port.", [
        ("name", "s"), ("protocol", "s"), ("port", "i"), ("targetPort", "ios"), ("nodePort", "i"), ("appProtocol", "s")]),
    ("Endpoints", ("v1", "Endpoints"), "The endpoints of a Service.", [("subsets", "[EndpointSubset]")]),
    ("EndpointSubset", None, "Addresses that share a set of ports.", [
        ("addresses", "[EndpointAddress]"), ("notReadyAddresses", "[EndpointAddress]"), ("ports", "[EndpointPort]")]),
    ("EndpointAddress", None, "One endpoint address.", [
        ("ip", "s"), ("hostname", "s"), ("nodeName", "s"), ("targetRef", "ObjectReference?")]),
    ("EndpointPort", None, "One endpoint port.", [("name", "s"), ("port", "i"), ("protocol", "s"), ("appProtocol", "s")]),

    # Events and quotas
    "Cluster",
    ("Event", ("v1", "Event"), "A core/v1 Event.", [
        ("involvedObject", "ObjectReference"), ("reason", "s"), ("message", "s"), ("type", "s"), ("count", "i"),
        ("firstTimestamp", "t"), ("lastTimestamp", "t"), ("source", "EventSource"), ("reportingComponent", "s"),
        ("reportingInstance", "s"), ("action", "s")]),
    ("EndpointSlice", ("discovery.k8s.io/v1", "EndpointSlice"), "An EndpointSlice (`endpoints` and `ports` are kept as written; read them from `raw`).", [
        ("addressType", "s")]),
    ("EventSource", None, "Who reported an event.", [("component", "s"), ("host", "s")]),
    ("ResourceQuota", ("v1", "ResourceQuota"), "A ResourceQuota.", [
        ("spec", "ResourceQuotaSpec"), ("status", "ResourceQuotaStatus")]),
    ("ResourceQuotaSpec", None, "Hard limits.", [("hard", "{q}")]),
    ("ResourceQuotaStatus", None, "Hard limits and usage.", [("hard", "{q}"), ("used", "{q}")]),
    ("Namespace", ("v1", "Namespace"), "A namespace.", []),
]

SCALARS = {"s": "String", "i": "Int", "b": "Bool", "t": "Timestamp", "q": "Quantity", "ios": "IntOrString"}


def swift_type(code):
    if code in SCALARS:
        return SCALARS[code]
    return code


def ident(name):
    return f"`{name}`" if name in {"operator", "protocol", "default", "in", "repeat"} else name


def prop(name, code):
    n = ident(name)
    if code.startswith("[") and code.endswith("]"):
        t = swift_type(code[1:-1])
        return f'    public var {n}: [{t}] {{ get {{ list("{name}") }} set {{ setList("{name}", newValue) }} }}'
    if code.startswith("{") and code.endswith("}"):
        t = swift_type(code[1:-1])
        return f'    public var {n}: [String: {t}] {{ get {{ map("{name}") }} set {{ setMap("{name}", newValue) }} }}'
    if code.endswith("?"):
        t = code[:-1]
        return f'    public var {n}: {t}? {{ get {{ get("{name}") }} set {{ set("{name}", newValue) }} }}'
    if code in SCALARS:
        return f'    public var {n}: {SCALARS[code]}? {{ get {{ get("{name}") }} set {{ set("{name}", newValue) }} }}'
    return f'    public var {n}: {code} {{ get {{ view("{name}") }} set {{ setView("{name}", newValue) }} }}'


def main():
    groups = {}
    current = None
    for entry in VIEWS:
        if isinstance(entry, str):
            current = entry
            groups[current] = []
            continue
        groups[current].append(entry)
    for group, views in groups.items():
        out = ["// Generated by Scripts/generate-model.py; do not edit by hand.", ""]
        for name, resource, doc, fields in views:
            out.append(f"/// {doc}")
            proto = "ResourceView" if resource else "JSONView"
            out.append(f"public struct {name}: {proto} {{")
            if resource:
                out.append(f'    public static let apiVersion = "{resource[0]}"')
                out.append(f'    public static let kind = "{resource[1]}"')
            out.append("    public var raw: JSONObject")
            out.append("    public init(raw: JSONObject) { self.raw = raw }")
            for fname, code in fields:
                out.append(prop(fname, code))
            out.append("}")
            out.append("")
        with open(f"Sources/OrcaKit/OrcaAPI/Model/{group}.generated.swift", "w") as f:
            f.write("\n".join(out))


main()
