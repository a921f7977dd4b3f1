package monitor

import (
	"net"
	"time"
)

// The typed views of an INFO reply. Missing or malformed fields are zero.

func intOf(info Info, key string) int64 {
	n, _ := info.Int(key)
	return n
}

func serverOf(info Info) ServerInfo {
	return ServerInfo{
		Version: info.String("redis_version"),
		Mode:    info.String("redis_mode"),
		RunID:   info.String("run_id"),
		Uptime:  time.Duration(intOf(info, "uptime_in_seconds")) * time.Second,
		Port:    intOf(info, "tcp_port"),
	}
}

func clientsOf(info Info) ClientsInfo {
	return ClientsInfo{
		Connected:  intOf(info, "connected_clients"),
		Blocked:    intOf(info, "blocked_clients"),
		MaxClients: intOf(info, "maxclients"),
	}
}

func memoryOf(info Info) MemoryInfo {
	m := MemoryInfo{
		Used:   intOf(info, "used_memory"),
		RSS:    intOf(info, "used_memory_rss"),
		Peak:   intOf(info, "used_memory_peak"),
		Max:    intOf(info, "maxmemory"),
		Policy: info.String("maxmemory_policy"),
	}
	m.FragmentationRatio, _ = info.Float("mem_fragmentation_ratio")
	if b, ok := info.Int("mem_fragmentation_bytes"); ok {
		m.FragmentationBytes = b
	} else {
		m.FragmentationBytes = m.RSS - m.Used
	}
	return m
}

func persistenceOf(info Info) PersistenceInfo {
	return PersistenceInfo{
		Loading:                 info.String("loading") == "1",
		RDBChangesSinceLastSave: intOf(info, "rdb_changes_since_last_save"),
		RDBLastBgsaveStatus:     info.String("rdb_last_bgsave_status"),
		AOFEnabled:              info.String("aof_enabled") == "1",
		AOFLastWriteStatus:      info.String("aof_last_write_status"),
	}
}

func replicationOf(info Info) ReplicationInfo {
	r := ReplicationInfo{
		Role:              info.String("role"),
		MasterLinkStatus:  info.String("master_link_status"),
		ConnectedReplicas: intOf(info, "connected_slaves"),
		Replicas:          info.Replicas(),
		Offset:            intOf(info, "master_repl_offset"),
	}
	if host := info.String("master_host"); host != "" {
		r.MasterAddr = net.JoinHostPort(host, info.String("master_port"))
	}
	if secs := intOf(info, "master_link_down_since_seconds"); secs > 0 && r.MasterLinkStatus == "down" {
		r.MasterLinkDownSince = time.Duration(secs) * time.Second
	}
	return r
}
