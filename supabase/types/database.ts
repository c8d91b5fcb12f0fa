export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  public: {
    Tables: {
      api_models: {
        Row: {
          created_at: string
          display_name: string | null
          id: string
          is_active: boolean
          model_key: string
          provider: string
        }
        Insert: {
          created_at?: string
          display_name?: string | null
          id?: string
          is_active?: boolean
          model_key: string
          provider: string
        }
        Update: {
          created_at?: string
          display_name?: string | null
          id?: string
          is_active?: boolean
          model_key?: string
          provider?: string
        }
        Relationships: []
      }
      images_videos: {
        Row: {
          asset_index: number
          asset_type: string
          bucket: string
          created_at: string
          file_name: string
          file_path: string
          id: string
          job_id: string | null
          metadata: NonNullable<Json>
          thumbnail_path: string | null
          user_id: string
        }
        Insert: {
          asset_index: number
          asset_type: string
          bucket: string
          created_at?: string
          file_name: string
          file_path: string
          id?: string
          job_id?: string | null
          metadata?: NonNullable<Json>
          thumbnail_path?: string | null
          user_id: string
        }
        Update: {
          asset_index?: number
          asset_type?: string
          bucket?: string
          created_at?: string
          file_name?: string
          file_path?: string
          id?: string
          job_id?: string | null
          metadata?: NonNullable<Json>
          thumbnail_path?: string | null
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "images_videos_job_id_fkey"
            columns: ["job_id"]
            isOneToOne: false
            referencedRelation: "jobs"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "images_videos_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      job_types: {
        Row: {
          asset_path_prefix: string | null
          default_max_attempts: number
          description: string | null
          enhanced: boolean
          format: string
          job_type: string
          lease_seconds: number
          max_lease_seconds: number
          max_run_seconds: number
          media_type: string
          model_type: string
          output_bucket: string
          quality: string
          worker_pool: string
        }
        Insert: {
          asset_path_prefix?: string | null
          default_max_attempts?: number
          description?: string | null
          enhanced?: boolean
          format: string
          job_type: string
          lease_seconds: number
          max_lease_seconds?: number
          max_run_seconds?: number
          media_type: string
          model_type: string
          output_bucket: string
          quality: string
          worker_pool: string
        }
        Update: {
          asset_path_prefix?: string | null
          default_max_attempts?: number
          description?: string | null
          enhanced?: boolean
          format?: string
          job_type?: string
          lease_seconds?: number
          max_lease_seconds?: number
          max_run_seconds?: number
          media_type?: string
          model_type?: string
          output_bucket?: string
          quality?: string
          worker_pool?: string
        }
        Relationships: []
      }
      jobs: {
        Row: {
          api_model_id: string | null
          attempts: number
          compel_weights: Json | null
          completed_at: string | null
          created_at: string
          destination: string
          enhanced_prompt: string | null
          enhancement_strategy: string | null
          enhancement_time_ms: number | null
          error_message: string | null
          fair_rank: number
          format: string | null
          id: string
          idempotency_key: string | null
          image_id: string | null
          job_type: string
          last_error_at: string | null
          lease_expires_at: string | null
          lease_token: string | null
          locked_by: string | null
          max_attempts: number
          metadata: NonNullable<Json>
          model_type: string | null
          moderation_status: string
          original_prompt: string | null
          priority: number
          project_id: string | null
          prompt_test_id: string | null
          quality: string | null
          quality_improvement: number | null
          quality_rating: number | null
          qwen_expansion_percentage: number | null
          review_notes: string | null
          reviewed_at: string | null
          reviewed_by: string | null
          run_at: string
          started_at: string | null
          status: string
          template_name: string | null
          test_metadata: Json | null
          updated_at: string
          user_id: string
          video_id: string | null
          worker_pool: string
          workspace_session_id: string | null
          written_xid: unknown
        }
        Insert: {
          api_model_id?: string | null
          attempts?: number
          compel_weights?: Json | null
          completed_at?: string | null
          created_at?: string
          destination?: string
          enhanced_prompt?: string | null
          enhancement_strategy?: string | null
          enhancement_time_ms?: number | null
          error_message?: string | null
          fair_rank?: number
          format?: string | null
          id?: string
          idempotency_key?: string | null
          image_id?: string | null
          job_type: string
          last_error_at?: string | null
          lease_expires_at?: string | null
          lease_token?: string | null
          locked_by?: string | null
          max_attempts?: number
          metadata?: NonNullable<Json>
          model_type?: string | null
          moderation_status?: string
          original_prompt?: string | null
          priority?: number
          project_id?: string | null
          prompt_test_id?: string | null
          quality?: string | null
          quality_improvement?: number | null
          quality_rating?: number | null
          qwen_expansion_percentage?: number | null
          review_notes?: string | null
          reviewed_at?: string | null
          reviewed_by?: string | null
          run_at?: string
          started_at?: string | null
          status?: string
          template_name?: string | null
          test_metadata?: Json | null
          updated_at?: string
          user_id: string
          video_id?: string | null
          worker_pool: string
          workspace_session_id?: string | null
          written_xid?: unknown
        }
        Update: {
          api_model_id?: string | null
          attempts?: number
          compel_weights?: Json | null
          completed_at?: string | null
          created_at?: string
          destination?: string
          enhanced_prompt?: string | null
          enhancement_strategy?: string | null
          enhancement_time_ms?: number | null
          error_message?: string | null
          fair_rank?: number
          format?: string | null
          id?: string
          idempotency_key?: string | null
          image_id?: string | null
          job_type?: string
          last_error_at?: string | null
          lease_expires_at?: string | null
          lease_token?: string | null
          locked_by?: string | null
          max_attempts?: number
          metadata?: NonNullable<Json>
          model_type?: string | null
          moderation_status?: string
          original_prompt?: string | null
          priority?: number
          project_id?: string | null
          prompt_test_id?: string | null
          quality?: string | null
          quality_improvement?: number | null
          quality_rating?: number | null
          qwen_expansion_percentage?: number | null
          review_notes?: string | null
          reviewed_at?: string | null
          reviewed_by?: string | null
          run_at?: string
          started_at?: string | null
          status?: string
          template_name?: string | null
          test_metadata?: Json | null
          updated_at?: string
          user_id?: string
          video_id?: string | null
          worker_pool?: string
          workspace_session_id?: string | null
          written_xid?: unknown
        }
        Relationships: [
          {
            foreignKeyName: "jobs_api_model_id_fkey"
            columns: ["api_model_id"]
            isOneToOne: false
            referencedRelation: "api_models"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "jobs_image_id_fkey"
            columns: ["image_id"]
            isOneToOne: false
            referencedRelation: "images_videos"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "jobs_job_type_fkey"
            columns: ["job_type"]
            isOneToOne: false
            referencedRelation: "job_types"
            referencedColumns: ["job_type"]
          },
          {
            foreignKeyName: "jobs_project_id_fkey"
            columns: ["project_id"]
            isOneToOne: false
            referencedRelation: "projects"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "jobs_prompt_test_id_fkey"
            columns: ["prompt_test_id"]
            isOneToOne: false
            referencedRelation: "prompt_tests"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "jobs_reviewed_by_fkey"
            columns: ["reviewed_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "jobs_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "jobs_video_id_fkey"
            columns: ["video_id"]
            isOneToOne: false
            referencedRelation: "videos"
            referencedColumns: ["id"]
          },
        ]
      }
      profiles: {
        Row: {
          avatar_url: string | null
          created_at: string
          display_name: string | null
          id: string
          updated_at: string
          username: string | null
        }
        Insert: {
          avatar_url?: string | null
          created_at?: string
          display_name?: string | null
          id: string
          updated_at?: string
          username?: string | null
        }
        Update: {
          avatar_url?: string | null
          created_at?: string
          display_name?: string | null
          id?: string
          updated_at?: string
          username?: string | null
        }
        Relationships: []
      }
      projects: {
        Row: {
          created_at: string
          id: string
          name: string
          user_id: string
        }
        Insert: {
          created_at?: string
          id?: string
          name: string
          user_id: string
        }
        Update: {
          created_at?: string
          id?: string
          name?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "projects_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      prompt_tests: {
        Row: {
          created_at: string
          created_by: string | null
          id: string
          name: string
          prompt: string
        }
        Insert: {
          created_at?: string
          created_by?: string | null
          id?: string
          name: string
          prompt: string
        }
        Update: {
          created_at?: string
          created_by?: string | null
          id?: string
          name?: string
          prompt?: string
        }
        Relationships: [
          {
            foreignKeyName: "prompt_tests_created_by_fkey"
            columns: ["created_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      user_roles: {
        Row: {
          granted_at: string
          role: string
          user_id: string
        }
        Insert: {
          granted_at?: string
          role: string
          user_id: string
        }
        Update: {
          granted_at?: string
          role?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "user_roles_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      videos: {
        Row: {
          asset_id: string
          created_at: string
          duration_seconds: number | null
          file_path: string
          id: string
          thumbnail_path: string | null
          user_id: string
        }
        Insert: {
          asset_id: string
          created_at?: string
          duration_seconds?: number | null
          file_path: string
          id?: string
          thumbnail_path?: string | null
          user_id: string
        }
        Update: {
          asset_id?: string
          created_at?: string
          duration_seconds?: number | null
          file_path?: string
          id?: string
          thumbnail_path?: string | null
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "videos_asset_id_fkey"
            columns: ["asset_id"]
            isOneToOne: true
            referencedRelation: "images_videos"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "videos_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      asset_info: { Args: { asset_id: string }; Returns: Json }
      cancel_job: { Args: { job_id: string }; Returns: Json }
      claim_jobs: {
        Args: {
          lease_seconds?: number
          max_jobs?: number
          worker_id: string
          worker_pool: string
        }
        Returns: {
          attempt: number
          format: string
          job_id: string
          job_type: string
          lease_expires_at: string
          lease_token: string
          max_attempts: number
          metadata: Json
          model_type: string
          output_bucket: string
          prompt: string
          quality: string
          user_id: string
        }[]
      }
      get_job: { Args: { job_id: string }; Returns: Json }
      heartbeat_jobs: {
        Args: {
          job_ids: string[]
          lease_seconds?: number
          lease_tokens: string[]
          worker_id: string
        }
        Returns: {
          job_id: string
          lease_expires_at: string
          state: string
        }[]
      }
      job_callback: {
        Args: {
          assets?: Json
          error_message?: string
          job_id: string
          lease_token?: string
          metadata?: Json
          retryable?: boolean
          status: string
        }
        Returns: Json
      }
      job_callback_and_claim: {
        Args: {
          lease_seconds?: number
          max_jobs?: number
          report: Json
          worker_id: string
          worker_pool: string
        }
        Returns: {
          answer: Json
          attempt: number
          format: string
          job_id: string
          job_type: string
          lease_expires_at: string
          lease_token: string
          max_attempts: number
          metadata: Json
          model_type: string
          output_bucket: string
          prompt: string
          quality: string
          user_id: string
        }[]
      }
      job_callbacks: {
        Args: { reports: Json }
        Returns: {
          answer: Json
          job_id: string
          result: string
        }[]
      }
      job_changes_since: { Args: { cursor?: string }; Returns: Json }
      library_items: {
        Args: { before?: string; before_id?: string; max_rows?: number }
        Returns: Json
      }
      list_jobs: {
        Args: {
          before?: string
          before_id?: string
          max_rows?: number
          status?: string
        }
        Returns: {
          api_model_id: string | null
          attempts: number
          compel_weights: Json | null
          completed_at: string | null
          created_at: string
          destination: string
          enhanced_prompt: string | null
          enhancement_strategy: string | null
          enhancement_time_ms: number | null
          error_message: string | null
          fair_rank: number
          format: string | null
          id: string
          idempotency_key: string | null
          image_id: string | null
          job_type: string
          last_error_at: string | null
          lease_expires_at: string | null
          lease_token: string | null
          locked_by: string | null
          max_attempts: number
          metadata: NonNullable<Json>
          model_type: string | null
          moderation_status: string
          original_prompt: string | null
          priority: number
          project_id: string | null
          prompt_test_id: string | null
          quality: string | null
          quality_improvement: number | null
          quality_rating: number | null
          qwen_expansion_percentage: number | null
          review_notes: string | null
          reviewed_at: string | null
          reviewed_by: string | null
          run_at: string
          started_at: string | null
          status: string
          template_name: string | null
          test_metadata: Json | null
          updated_at: string
          user_id: string
          video_id: string | null
          worker_pool: string
          workspace_session_id: string | null
          written_xid: unknown
        }[]
        SetofOptions: {
          from: "*"
          to: "jobs"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      purge_finished_jobs: {
        Args: { batch_size?: number; older_than?: string }
        Returns: number
      }
      queue_job: {
        Args: {
          api_model_id?: string
          destination?: string
          idempotency_key?: string
          job_type: string
          metadata?: Json
          num_images?: number
          priority?: number
          project_id?: string
          prompt?: string
          quality?: string
          run_after?: string
          template_name?: string
          workspace_session_id?: string
        }
        Returns: Json
      }
      release_jobs: {
        Args: { job_ids: string[]; lease_tokens: string[]; worker_id: string }
        Returns: {
          job_id: string
          state: string
        }[]
      }
      rescue_expired_jobs: { Args: { max_jobs?: number }; Returns: Json }
      rescue_is_scheduled: {
        Args: Record<PropertyKey, never>
        Returns: boolean
      }
      retry_job: { Args: { job_id: string }; Returns: Json }
      review_job: {
        Args: {
          job_id: string
          moderation_status: string
          review_notes?: string
        }
        Returns: Json
      }
      system_metrics: { Args: { time_window?: string }; Returns: Json }
      workspace_groups: {
        Args: {
          before?: string
          before_group?: string
          max_groups?: number
          workspace_session_id?: string
        }
        Returns: Json
      }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends (DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never) = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends (PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never) = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never

export const Constants = {
  public: {
    Enums: {},
  },
} as const

